import Foundation

/// A 32-byte identifier: blob IDs (keyed HMAC of the plaintext), pack, index and snapshot IDs
/// (SHA-256 of the stored bytes).
public struct ObjectID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// Wraps the output of SHA-256 or HMAC-SHA256, which is 32 bytes by construction.
    init(digest: [UInt8]) {
        precondition(digest.count == 32, "a SHA-256 digest has 32 bytes")
        self.bytes = digest
    }

    /// Parses 64 lowercase or uppercase hex digits.
    public init?(hex: some StringProtocol) {
        guard hex.utf8.count == 64, let decoded = Hex.decode(hex) else { return nil }
        self.bytes = decoded
    }

    public var hex: String { Hex.encode(bytes) }
    public var shortHex: String { String(hex.prefix(8)) }
    public var description: String { hex }

    public static func < (lhs: ObjectID, rhs: ObjectID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

public typealias BlobID = ObjectID

/// What a blob holds. The raw value is part of the format (pack headers, associated data).
public enum BlobType: UInt8, Sendable, Hashable, CaseIterable {
    case data = 0
    case tree = 1
}

/// Seconds and nanoseconds since the epoch, as the kernel stores them (negative seconds allowed).
public struct Timestamp: Hashable, Sendable, Comparable {
    public var seconds: Int64
    public var nanoseconds: UInt32

    public init(seconds: Int64, nanoseconds: UInt32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }
}

/// One extended attribute; names and values are bytes (ACLs are `system.posix_acl_*`).
public struct ExtendedAttribute: Hashable, Sendable {
    public var name: [UInt8]
    public var value: [UInt8]

    public init(name: [UInt8], value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

/// A run of file data; the gaps between extents of a sparse file are holes.
public struct Extent: Hashable, Sendable {
    public var offset: UInt64
    public var length: UInt64

    public init(offset: UInt64, length: UInt64) {
        self.offset = offset
        self.length = length
    }
}

/// One entry of a directory as captured by a backup.
public struct Node: Hashable, Sendable {
    public enum Kind: UInt8, Sendable, Hashable {
        case file = 1
        case directory = 2
        case symlink = 3
        case fifo = 4
        case characterDevice = 5
        case blockDevice = 6
        case socket = 7
    }

    /// The name within its directory, as raw bytes (never normalised, never required to be UTF-8).
    public var name: [UInt8]
    public var kind: Kind
    /// Permission and special bits (`07777`), without the file-type bits.
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// Owner names at backup time, if they resolved; the numeric IDs win on restore.
    public var user: String?
    public var group: String?
    public var mtime: Timestamp
    public var atime: Timestamp
    public var ctime: Timestamp
    public var size: UInt64
    /// Device and inode number at backup time: hard-link identity and change detection.
    public var device: UInt64
    public var inode: UInt64
    public var linkCount: UInt32
    /// Device number of a character or block device node.
    public var rdev: UInt64
    /// Target of a symlink, as raw bytes.
    public var linkTarget: [UInt8]
    /// In the order the file system listed them at backup time (restore keeps it).
    public var xattrs: [ExtendedAttribute]
    /// Inode flags (`FS_IOC_GETFLAGS`: immutable, append-only, no-dump, ...).
    public var flags: UInt32
    /// Data chunks of a regular file, in order; they cover the extents back to back.
    public var content: [BlobID]
    /// Data extents of a sparse file; `nil` means the file is dense (one extent `0..<size`).
    public var extents: [Extent]?
    /// Tree blob of a directory.
    public var subtree: BlobID?

    public init(
        name: [UInt8], kind: Kind, mode: UInt32 = 0, uid: UInt32 = 0, gid: UInt32 = 0,
        user: String? = nil, group: String? = nil,
        mtime: Timestamp = Timestamp(seconds: 0, nanoseconds: 0),
        atime: Timestamp = Timestamp(seconds: 0, nanoseconds: 0),
        ctime: Timestamp = Timestamp(seconds: 0, nanoseconds: 0),
        size: UInt64 = 0, device: UInt64 = 0, inode: UInt64 = 0, linkCount: UInt32 = 1,
        rdev: UInt64 = 0, linkTarget: [UInt8] = [], xattrs: [ExtendedAttribute] = [],
        flags: UInt32 = 0, content: [BlobID] = [], extents: [Extent]? = nil, subtree: BlobID? = nil
    ) {
        self.name = name
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.user = user
        self.group = group
        self.mtime = mtime
        self.atime = atime
        self.ctime = ctime
        self.size = size
        self.device = device
        self.inode = inode
        self.linkCount = linkCount
        self.rdev = rdev
        self.linkTarget = linkTarget
        self.xattrs = xattrs
        self.flags = flags
        self.content = content
        self.extents = extents
        self.subtree = subtree
    }
}

/// The entries of one directory, sorted by name bytes (the encoding requires it).
public struct Tree: Hashable, Sendable {
    public var nodes: [Node]

    public init(nodes: [Node]) {
        self.nodes = nodes.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }

    public func node(named name: [UInt8]) -> Node? {
        // Binary search: trees of big directories hold many thousands of entries.
        var low = 0
        var high = nodes.count
        while low < high {
            let mid = (low + high) / 2
            if nodes[mid].name == name { return nodes[mid] }
            if nodes[mid].name.lexicographicallyPrecedes(name) { low = mid + 1 } else { high = mid }
        }
        return nil
    }
}

enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}
