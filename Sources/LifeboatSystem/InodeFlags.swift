import CLinuxShims

/// Inode flags as `chattr`/`lsattr` show them (FS_IOC_GETFLAGS / FS_IOC_SETFLAGS).
public struct InodeFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let secureDelete = InodeFlags(rawValue: 0x0000_0001)  // s
    public static let undelete = InodeFlags(rawValue: 0x0000_0002)  // u
    public static let compressed = InodeFlags(rawValue: 0x0000_0004)  // c
    public static let synchronous = InodeFlags(rawValue: 0x0000_0008)  // S
    public static let immutable = InodeFlags(rawValue: 0x0000_0010)  // i
    public static let appendOnly = InodeFlags(rawValue: 0x0000_0020)  // a
    public static let noDump = InodeFlags(rawValue: 0x0000_0040)  // d
    public static let noAtime = InodeFlags(rawValue: 0x0000_0080)  // A
    public static let indexed = InodeFlags(rawValue: 0x0000_1000)  // I (read-only, set by ext4)
    public static let journalData = InodeFlags(rawValue: 0x0000_4000)  // j
    public static let noTail = InodeFlags(rawValue: 0x0000_8000)  // t
    public static let directorySync = InodeFlags(rawValue: 0x0001_0000)  // D
    public static let topDirectory = InodeFlags(rawValue: 0x0002_0000)  // T
    public static let hugeFile = InodeFlags(rawValue: 0x0004_0000)  // (read-only)
    public static let extents = InodeFlags(rawValue: 0x0008_0000)  // e (read-only)
    public static let verity = InodeFlags(rawValue: 0x0010_0000)  // V (read-only)
    public static let inlineData = InodeFlags(rawValue: 0x1000_0000)  // N (read-only)
    public static let noCopyOnWrite = InodeFlags(rawValue: 0x0080_0000)  // C
    public static let dax = InodeFlags(rawValue: 0x0200_0000)  // x
    public static let projectInherit = InodeFlags(rawValue: 0x2000_0000)  // P
    public static let casefold = InodeFlags(rawValue: 0x4000_0000)  // F

    /// Flags a restore may set (the others are maintained by the file system itself).
    public static let settable: InodeFlags = [
        .secureDelete, .undelete, .compressed, .synchronous, .immutable, .appendOnly, .noDump,
        .noAtime, .journalData, .noTail, .directorySync, .topDirectory, .noCopyOnWrite, .projectInherit,
    ]

    /// Flags that forbid changing the file: applied last, cleared before replacing.
    public static let locking: InodeFlags = [.immutable, .appendOnly]
}

extension FileDescriptor {
    /// The inode flags; throws ENOTTY/ENOTSUP where the file system has none.
    public func inodeFlags() throws -> InodeFlags {
        var flags: UInt32 = 0
        let fd = rawValue
        _ = try retryingEINTR("get inode flags") { cl_get_inode_flags(fd, &flags) }
        return InodeFlags(rawValue: flags)
    }

    public func setInodeFlags(_ flags: InodeFlags) throws {
        let fd = rawValue
        _ = try retryingEINTR("set inode flags") { cl_set_inode_flags(fd, flags.rawValue) }
    }
}
