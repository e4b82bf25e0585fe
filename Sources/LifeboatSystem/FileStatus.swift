import CLinuxShims
import Glibc

/// Seconds and nanoseconds since the epoch (negative seconds allowed), as the kernel keeps them.
public struct TimeSpec: Hashable, Sendable, Comparable {
    public var seconds: Int64
    public var nanoseconds: UInt32

    public init(seconds: Int64, nanoseconds: UInt32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static func < (lhs: TimeSpec, rhs: TimeSpec) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    var timespec: Glibc.timespec {
        Glibc.timespec(tv_sec: Int(seconds), tv_nsec: Int(nanoseconds))
    }
}

/// The type of a file system object.
public enum FileType: Sendable, Hashable {
    case regular, directory, symlink, fifo, characterDevice, blockDevice, socket, unknown

    public init(mode: UInt32) {
        switch mode & UInt32(S_IFMT) {
        case UInt32(S_IFREG): self = .regular
        case UInt32(S_IFDIR): self = .directory
        case UInt32(S_IFLNK): self = .symlink
        case UInt32(S_IFIFO): self = .fifo
        case UInt32(S_IFCHR): self = .characterDevice
        case UInt32(S_IFBLK): self = .blockDevice
        case UInt32(S_IFSOCK): self = .socket
        default: self = .unknown
        }
    }

    /// The `S_IF*` bits for mknod.
    public var modeBits: UInt32 {
        switch self {
        case .regular: return UInt32(S_IFREG)
        case .directory: return UInt32(S_IFDIR)
        case .symlink: return UInt32(S_IFLNK)
        case .fifo: return UInt32(S_IFIFO)
        case .characterDevice: return UInt32(S_IFCHR)
        case .blockDevice: return UInt32(S_IFBLK)
        case .socket: return UInt32(S_IFSOCK)
        case .unknown: return 0
        }
    }
}

/// What statx(2) reports about a file (with nanosecond times).
public struct FileStatus: Hashable, Sendable {
    public var type: FileType
    /// Permission and special bits (`07777`).
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: UInt64
    /// Allocated 512-byte blocks.
    public var blocks: UInt64
    public var device: UInt64
    public var inode: UInt64
    public var linkCount: UInt32
    public var rdev: UInt64
    public var mountID: UInt64
    public var atime: TimeSpec
    public var mtime: TimeSpec
    public var ctime: TimeSpec

    init(_ raw: cl_statx_result) {
        type = FileType(mode: UInt32(raw.mode))
        permissions = UInt32(raw.mode) & 0o7777
        uid = raw.uid
        gid = raw.gid
        size = raw.size
        blocks = raw.blocks
        device = raw.dev
        inode = raw.ino
        linkCount = raw.nlink
        rdev = raw.rdev
        mountID = raw.mnt_id
        atime = TimeSpec(seconds: raw.atime_sec, nanoseconds: raw.atime_nsec)
        mtime = TimeSpec(seconds: raw.mtime_sec, nanoseconds: raw.mtime_nsec)
        ctime = TimeSpec(seconds: raw.ctime_sec, nanoseconds: raw.ctime_nsec)
    }

    /// Major and minor of `rdev`.
    public var rdevMajor: UInt32 { cl_major(rdev) }
    public var rdevMinor: UInt32 { cl_minor(rdev) }

    public static func makeDevice(major: UInt32, minor: UInt32) -> UInt64 { cl_makedev(major, minor) }
}

/// statx(2) of `path` relative to `directory` (`AT_FDCWD` when nil), never following a final
/// symlink unless asked to.
public func fileStatus(
    at directory: FileDescriptor?, _ path: [UInt8], followSymlinks: Bool = false
) throws -> FileStatus {
    let dirfd = directory?.rawValue ?? AT_FDCWD
    var raw = cl_statx_result()
    let flags = followSymlinks ? 0 : AT_SYMLINK_NOFOLLOW
    _ = try withCPath(path) { cpath in
        try retryingEINTR("stat", path: path) { cl_statx(dirfd, cpath, flags, &raw) }
    }
    return FileStatus(raw)
}
