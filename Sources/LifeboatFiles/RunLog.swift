import LifeboatSystem
import Synchronization

/// The issues and the first fatal error of one backup or restore run, shared by its threads.
final class RunLog: Sendable {
    private let issueList = Mutex<[BackupIssue]>([])
    private let fatal = Mutex<(any Error)?>(nil)

    var issues: [BackupIssue] { issueList.withLock { $0 } }
    var firstFailure: (any Error)? { fatal.withLock { $0 } }
    var failed: Bool { fatal.withLock { $0 != nil } }

    func record(_ path: [UInt8], _ message: String, isWarning: Bool) {
        issueList.withLock { $0.append(BackupIssue(path: escapedForDisplay(path), message: message, isWarning: isWarning)) }
    }

    /// Keeps the first fatal error; the run stops at the next check of `failed`.
    func fail(_ error: any Error) {
        fatal.withLock { if $0 == nil { $0 = error } }
    }
}

/// A run (backup or restore) that reports through a `RunLog`.
protocol RunLogging {
    var log: RunLog { get }
}

extension RunLogging {
    /// Something the user should know that did not stop the entry (changed, vanished, skipped).
    func warn(_ path: [UInt8], _ message: String) { log.record(path, message, isWarning: true) }

    /// An entry that could not be backed up or restored.
    func error(_ path: [UInt8], _ message: String) { log.record(path, message, isWarning: false) }

    func fail(_ error: any Error) { log.fail(error) }

    var failed: Bool { log.failed }
}
