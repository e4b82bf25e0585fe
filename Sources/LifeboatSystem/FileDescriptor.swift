import CLinuxShims
import Glibc
import Synchronization

/// An owned file descriptor, closed when the last reference goes away (or by `close()`).
///
/// A class rather than a `~Copyable` struct so that descriptors can live in arrays, stacks and
/// be shared by the jobs that open files relative to one directory.
public final class FileDescriptor: Sendable {
    private let storage: Atomic<Int32>

    /// Takes ownership of `rawValue`.
    public init(owning rawValue: Int32) {
        storage = Atomic(rawValue)
    }

    /// The descriptor number; -1 after `close()`.
    public var rawValue: Int32 { storage.load(ordering: .acquiring) }

    deinit {
        let fd = storage.load(ordering: .acquiring)
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    /// Gives up ownership without closing (the caller took the number over).
    func release() {
        _ = storage.exchange(-1, ordering: .acquiringAndReleasing)
    }

    /// Closes now and reports the error (which matters after writes on some file systems).
    /// Never retried: on Linux the descriptor is gone even when close fails with EINTR.
    public func close() throws {
        let fd = storage.exchange(-1, ordering: .acquiringAndReleasing)
        guard fd >= 0 else { return }
        if Glibc.close(fd) != 0 {
            let error = Errno.current
            if error != .EINTR { throw SystemError("close", errno: error) }
        }
    }

    // MARK: Opening

    public struct OpenFlags: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let readOnly = OpenFlags([])
        public static let writeOnly = OpenFlags(rawValue: O_WRONLY)
        public static let readWrite = OpenFlags(rawValue: O_RDWR)
        public static let create = OpenFlags(rawValue: O_CREAT)
        public static let exclusive = OpenFlags(rawValue: O_EXCL)
        public static let truncate = OpenFlags(rawValue: O_TRUNC)
        public static let append = OpenFlags(rawValue: O_APPEND)
        public static let noFollow = OpenFlags(rawValue: O_NOFOLLOW)
        public static let directory = OpenFlags(rawValue: O_DIRECTORY)
        public static let nonBlocking = OpenFlags(rawValue: O_NONBLOCK)
        public static let noAccessTime = OpenFlags(rawValue: cl_o_noatime())
        /// O_PATH: names the inode without opening it; with `.noFollow` it can name a symlink.
        public static let pathOnly = OpenFlags(rawValue: cl_o_path())
        public static let noControllingTerminal = OpenFlags(rawValue: O_NOCTTY)
    }

    /// Opens `path` relative to `directory` (the current directory when nil). O_CLOEXEC is always set.
    public static func open(
        _ path: [UInt8], relativeTo directory: FileDescriptor? = nil, flags: OpenFlags,
        mode: UInt32 = 0o600
    ) throws -> FileDescriptor {
        let dirfd = directory?.rawValue ?? AT_FDCWD
        let all = flags.rawValue | O_CLOEXEC
        let fd = try withCPath(path) { cpath in
            try retryingEINTR("open", path: path) { Glibc.openat(dirfd, cpath, all, mode_t(mode)) }
        }
        return FileDescriptor(owning: fd)
    }

    public static func open(_ path: String, flags: OpenFlags, mode: UInt32 = 0o600) throws -> FileDescriptor {
        try open(Array(path.utf8), flags: flags, mode: mode)
    }

    /// Opens `name` inside this directory.
    public func openAt(_ name: [UInt8], flags: OpenFlags, mode: UInt32 = 0o600) throws -> FileDescriptor {
        try FileDescriptor.open(name, relativeTo: self, flags: flags, mode: mode)
    }

    /// A second descriptor for the same open file description.
    public func duplicate() throws -> FileDescriptor {
        let fd = try retryingEINTR("dup") { fcntl(rawValue, F_DUPFD_CLOEXEC, 0) }
        return FileDescriptor(owning: fd)
    }

    // MARK: Status

    /// statx(2) of the open file itself.
    public func status() throws -> FileStatus {
        var raw = cl_statx_result()
        let fd = rawValue
        _ = try retryingEINTR("stat") { cl_statx(fd, "", cl_at_empty_path(), &raw) }
        return FileStatus(raw)
    }

    /// statx(2) of `name` in this directory, not following a final symlink unless asked.
    public func statusAt(_ name: [UInt8], followSymlinks: Bool = false) throws -> FileStatus {
        try fileStatus(at: self, name, followSymlinks: followSymlinks)
    }

    // MARK: Reading and writing

    /// One read(2); returns 0 at end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let fd = rawValue
        return try retryingEINTR("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// One pread(2); returns 0 at end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        let fd = rawValue
        return try retryingEINTR("read") { Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// Reads until `buffer` is full or the file ends; returns the bytes read.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        var done = 0
        while done < buffer.count {
            let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[done...])
            let count = try read(into: slice, at: offset + UInt64(done))
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// Reads the whole remaining file (for small files: configs, /proc entries).
    public func readAll() throws -> [UInt8] {
        var result = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    /// Writes all of `buffer` (looping over short writes).
    public func writeAll(_ buffer: UnsafeRawBufferPointer) throws {
        let fd = rawValue
        var done = 0
        while done < buffer.count {
            let written = try retryingEINTR("write") {
                Glibc.write(fd, buffer.baseAddress.map { $0 + done }, buffer.count - done)
            }
            done += written
        }
    }

    /// Writes all of `buffer` at `offset` (pwrite, looping over short writes).
    public func writeAll(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws {
        let fd = rawValue
        var done = 0
        while done < buffer.count {
            let written = try retryingEINTR("write") {
                Glibc.pwrite(fd, buffer.baseAddress.map { $0 + done }, buffer.count - done, off_t(offset) + off_t(done))
            }
            done += written
        }
    }

    public func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeAll($0) }
    }

    public func truncate(to size: UInt64) throws {
        let fd = rawValue
        _ = try retryingEINTR("truncate") { Glibc.ftruncate(fd, off_t(size)) }
    }

    public func sync() throws {
        let fd = rawValue
        _ = try retryingEINTR("fsync") { Glibc.fsync(fd) }
    }

    /// Starts writing the file's dirty pages to the device without waiting for them
    /// (sync_file_range with SYNC_FILE_RANGE_WRITE). Durability still needs `sync` or
    /// `syncFileSystem`; started early, those find most of the work done.
    public func startWriteback() throws {
        let fd = rawValue
        _ = try retryingEINTR("sync_file_range") { cl_start_writeback(fd) }
    }

    /// syncfs(2): flushes the whole file system this descriptor lives on.
    public func syncFileSystem() throws {
        let fd = rawValue
        _ = try retryingEINTR("syncfs") { cl_syncfs(fd) }
    }

    // MARK: Metadata

    public func changeOwner(uid: UInt32, gid: UInt32) throws {
        let fd = rawValue
        _ = try retryingEINTR("chown") { Glibc.fchown(fd, uid, gid) }
    }

    public func changeMode(_ permissions: UInt32) throws {
        let fd = rawValue
        _ = try retryingEINTR("chmod") { Glibc.fchmod(fd, mode_t(permissions)) }
    }

    public func setTimes(access: TimeSpec, modification: TimeSpec) throws {
        let fd = rawValue
        var times = (access.timespec, modification.timespec)
        _ = try withUnsafePointer(to: &times) { pointer in
            try pointer.withMemoryRebound(to: timespec.self, capacity: 2) { ts in
                try retryingEINTR("set times") { Glibc.futimens(fd, ts) }
            }
        }
    }

    // MARK: Directory operations (this descriptor is a directory)

    public func makeDirectory(_ name: [UInt8], mode: UInt32) throws {
        let fd = rawValue
        _ = try withCPath(name) { c in try retryingEINTR("mkdir", path: name) { mkdirat(fd, c, mode_t(mode)) } }
    }

    public func makeSymlink(_ name: [UInt8], target: [UInt8]) throws {
        let fd = rawValue
        _ = try withCPath(name) { c in
            try withCPath(target) { t in try retryingEINTR("symlink", path: name) { symlinkat(t, fd, c) } }
        }
    }

    /// mknodat(2): FIFOs, character and block devices (and socket nodes).
    public func makeNode(_ name: [UInt8], type: FileType, permissions: UInt32, rdev: UInt64) throws {
        let fd = rawValue
        let mode = mode_t(type.modeBits | (permissions & 0o7777))
        _ = try withCPath(name) { c in try retryingEINTR("mknod", path: name) { mknodat(fd, c, mode, dev_t(rdev)) } }
    }

    /// linkat(2): a new name `name` in this directory for `existing` in `source`.
    public func makeHardLink(_ name: [UInt8], to existing: [UInt8], in source: FileDescriptor) throws {
        let fd = rawValue
        let sourcefd = source.rawValue
        _ = try withCPath(name) { c in
            try withCPath(existing) { e in try retryingEINTR("link", path: name) { linkat(sourcefd, e, fd, c, 0) } }
        }
    }

    public func readLink(_ name: [UInt8]) throws -> [UInt8] {
        let fd = rawValue
        var size = 256
        while true {
            var buffer = [UInt8](repeating: 0, count: size)
            let count = try withCPath(name) { c in
                try retryingEINTR("readlink", path: name) {
                    buffer.withUnsafeMutableBytes { raw -> Int in
                        guard let base = raw.baseAddress else { return -1 }
                        return readlinkat(fd, c, base.assumingMemoryBound(to: CChar.self), size)
                    }
                }
            }
            if count < size { return Array(buffer[0..<count]) }
            size *= 4
        }
    }

    public func unlink(_ name: [UInt8], directory: Bool = false) throws {
        let fd = rawValue
        let flags = directory ? AT_REMOVEDIR : 0
        _ = try withCPath(name) { c in try retryingEINTR("remove", path: name) { unlinkat(fd, c, flags) } }
    }

    /// renameat(2) from `name` in this directory to `newName` in `destination` (this one when nil).
    /// Never follows symlinks: a symlink at `newName` is replaced, not written through.
    public func rename(_ name: [UInt8], to newName: [UInt8], in destination: FileDescriptor? = nil) throws {
        let fd = rawValue
        let destfd = destination?.rawValue ?? fd
        _ = try withCPath(name) { c in
            try withCPath(newName) { n in try retryingEINTR("rename", path: newName) { renameat(fd, c, destfd, n) } }
        }
    }

    /// fchownat(2) on `name`, never following a final symlink.
    public func changeOwner(of name: [UInt8], uid: UInt32, gid: UInt32) throws {
        let fd = rawValue
        _ = try withCPath(name) { c in
            try retryingEINTR("chown", path: name) { fchownat(fd, c, uid, gid, AT_SYMLINK_NOFOLLOW) }
        }
    }

    /// fchmodat(2) on `name` (not for symlinks: Linux cannot change their mode).
    public func changeMode(of name: [UInt8], permissions: UInt32) throws {
        let fd = rawValue
        _ = try withCPath(name) { c in
            try retryingEINTR("chmod", path: name) { fchmodat(fd, c, mode_t(permissions), 0) }
        }
    }

    /// utimensat(2) on `name`, never following a final symlink.
    public func setTimes(of name: [UInt8], access: TimeSpec, modification: TimeSpec) throws {
        let fd = rawValue
        var times = (access.timespec, modification.timespec)
        _ = try withCPath(name) { c in
            try withUnsafePointer(to: &times) { pointer in
                try pointer.withMemoryRebound(to: timespec.self, capacity: 2) { ts in
                    try retryingEINTR("set times", path: name) { utimensat(fd, c, ts, AT_SYMLINK_NOFOLLOW) }
                }
            }
        }
    }

    /// A path that names `name` inside this directory without following a final symlink when used
    /// with the l* calls: `/proc/self/fd/<this>/<name>` (short, whatever the real path's length).
    public func procPath(_ name: [UInt8]) -> [UInt8] {
        var path = Array("/proc/self/fd/\(rawValue)".utf8)
        if !name.isEmpty {
            path.append(UInt8(ascii: "/"))
            path.append(contentsOf: name)
        }
        return path
    }
}

/// Raises the soft limit of open files to the hard limit (deep trees hold one fd per level).
public func raiseOpenFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
