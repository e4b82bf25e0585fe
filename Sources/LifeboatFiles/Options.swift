import Foundation
import LifeboatRepository
import LifeboatSystem

/// What to back up and how.
public struct BackupOptions: Sendable {
    /// Absolute or relative; made absolute and normalised (the parent directories are resolved,
    /// the last component is not: a symlink given as a path is stored as a link).
    public var paths: [String]
    /// More backup paths as raw bytes (for names that are not valid UTF-8, which a Swift
    /// `String` cannot hold: take them from `CommandLine.unsafeArgv`). Merged with `paths`.
    public var rawPaths: [[UInt8]] = []
    /// Descend into other file systems. Default: mount points are recorded as empty directories.
    public var crossFilesystems: Bool = false
    /// Re-read every file even if it is unchanged against the parent snapshot.
    public var force: Bool = false
    /// Root tree of the parent snapshot: unchanged files reuse its content without being read.
    public var parentRoot: BlobID? = nil
    /// When set (with `parentRoot`): only these absolute paths are re-read (files) or re-walked
    /// (directories, whole subtree); everything else is taken from the parent tree as it is, and
    /// only the trees above changed paths are rebuilt.
    public var changedPaths: Set<String>? = nil
    /// More changed paths as raw bytes (the journal's names); merged with `changedPaths` (either
    /// being non-nil turns journal mode on).
    public var rawChangedPaths: Set<[UInt8]>? = nil
    /// fnmatch(3) patterns matched against absolute paths (FNM_PATHNAME not set: `*` matches `/`).
    public var excludes: [String] = []
    /// Reader threads and as many hashing threads; one per core by default.
    public var threads: Int = defaultThreadCount
    /// Called at most about ten times a second, from any thread.
    public var progress: (@Sendable (BackupProgress) -> Void)? = nil

    public init(paths: [String]) {
        self.paths = paths
    }
}

public struct BackupProgress: Sendable {
    public var filesDone: UInt64
    public var bytesDone: UInt64
    public var filesTotal: UInt64?
    public var bytesTotal: UInt64?
    /// Escaped for display.
    public var currentPath: String
}

/// Something that went wrong with one entry; the rest of the run continued.
public struct BackupIssue: Sendable, CustomStringConvertible {
    /// The entry's absolute path, escaped for display (one line, no control bytes).
    public var path: String
    public var message: String
    /// Warning: the entry vanished or changed while being read (a consistent version was kept
    /// or it was left out). Error: it could not be read (or restored) at all.
    public var isWarning: Bool

    public init(path: String, message: String, isWarning: Bool) {
        self.path = path
        self.message = message
        self.isWarning = isWarning
    }

    public var description: String { "\(isWarning ? "warning" : "error"): \(path): \(message)" }
}

public struct BackupSummary: Sendable {
    public var root: BlobID
    public var filesNew: UInt64 = 0
    public var filesChanged: UInt64 = 0
    public var filesUnchanged: UInt64 = 0
    public var directories: UInt64 = 0
    /// Symlinks, FIFOs, devices and sockets.
    public var others: UInt64 = 0
    /// File content bytes read from disk.
    public var bytesRead: UInt64 = 0
    /// Bytes the repository grew by (data blobs; 0 for deduplicated ones).
    public var bytesAdded: UInt64 = 0
    /// Sum of the sizes of all files in the snapshot.
    public var totalSize: UInt64 = 0
    public var issues: [BackupIssue] = []

    /// Files whose content was read in this run.
    public var filesRead: UInt64 { filesNew + filesChanged }
}

public struct RestoreOptions: Sendable {
    /// The directory the snapshot's absolute paths are re-created under (created if missing).
    public var target: String
    /// Absolute paths inside the snapshot; a directory includes its subtree. Empty: everything.
    public var includes: [String] = []
    /// More includes as raw bytes, for names that are not valid UTF-8. Merged with `includes`.
    public var rawIncludes: [[UInt8]] = []
    /// Restore the numeric uid/gid (default) rather than mapping the recorded names.
    public var numericOwners = true
    /// Writer threads and as many chunk loaders; one per core by default.
    public var threads: Int = defaultThreadCount
    public var progress: (@Sendable (RestoreProgress) -> Void)? = nil

    public init(target: String) {
        self.target = target
    }
}

public struct RestoreProgress: Sendable {
    public var filesDone: UInt64
    public var bytesDone: UInt64
    public var bytesTotal: UInt64
}

public struct RestoreSummary: Sendable {
    public var files: UInt64 = 0
    public var directories: UInt64 = 0
    /// Symlinks, FIFOs and devices.
    public var others: UInt64 = 0
    public var bytes: UInt64 = 0
    public var issues: [BackupIssue] = []

    /// True if some entry could not be restored (errors, not warnings).
    public var hasErrors: Bool { issues.contains { !$0.isWarning } }
}

/// A failure that stops a whole backup or restore.
public struct FilesError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One worker per core the process may run on, at most 8: each holds up to two maximum-size
/// chunks (16 MiB) of buffers, and beyond 8 the storage, not the CPU, sets the pace.
public let defaultThreadCount = min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 8)
