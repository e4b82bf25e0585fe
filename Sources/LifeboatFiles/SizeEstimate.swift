import Foundation
import LifeboatSystem
import Synchronization

/// Counts the files and bytes under the backup paths, ahead of (and alongside) the backup, so
/// progress can show a percentage and an ETA. Only metadata is read; errors are skipped, since
/// the backup itself reports them.
public final class SizeEstimate: Sendable {
    public struct Totals: Sendable {
        public var files: UInt64 = 0
        public var bytes: UInt64 = 0
        /// False while the walk is still going.
        public var complete = false
    }

    private let state = Mutex(Totals())
    private let cancelled = Atomic<Bool>(false)

    public init() {}

    public var totals: Totals { state.withLock { $0 } }

    public func cancel() { cancelled.store(true, ordering: .relaxed) }

    /// Walks `paths` on a background thread (same filesystems rule as the backup).
    public func start(paths: [String], crossFilesystems: Bool) {
        let thread = Thread { [self] in
            for path in paths { walk(Array(path.utf8), crossFilesystems: crossFilesystems) }
            state.withLock { $0.complete = true }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func walk(_ root: [UInt8], crossFilesystems: Bool) {
        guard let status = try? FileDescriptor.open(root, flags: .pathOnly.union(.noFollow)).status() else { return }
        guard status.type == .directory else {
            if status.type == .regular { add(files: 1, bytes: status.size) }
            return
        }
        // An explicit stack of open directories: no recursion per level.
        var stack: [FileDescriptor] = []
        if let fd = try? FileDescriptor.open(root, flags: [.directory, .readOnly, .noFollow]) { stack.append(fd) }
        while let directory = stack.popLast(), !cancelled.load(ordering: .relaxed) {
            guard let entries = try? directory.listDirectory() else { continue }
            var files: UInt64 = 0
            var bytes: UInt64 = 0
            for entry in entries {
                guard entry.type == .regular || entry.type == .directory || entry.type == .unknown,
                    let child = try? directory.statusAt(entry.name)
                else { continue }
                if child.type == .regular {
                    files += 1
                    bytes += child.size
                } else if child.type == .directory, crossFilesystems || child.device == status.device,
                    let fd = try? directory.openAt(entry.name, flags: [.directory, .readOnly, .noFollow])
                {
                    stack.append(fd)
                }
            }
            add(files: files, bytes: bytes)
        }
    }

    private func add(files: UInt64, bytes: UInt64) {
        state.withLock {
            $0.files += files
            $0.bytes += bytes
        }
    }
}
