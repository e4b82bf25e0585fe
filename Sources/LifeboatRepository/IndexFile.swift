import Foundation

/// An `index/<id>` object (encrypted JSON, associated data `lifeboat.index.v1`): which blobs
/// each pack holds. Index files are written as the backup goes, one per finished pack, so a
/// killed backup loses at most the pack it was writing. `supersedes` names index files that
/// this one replaces (compaction by prune).
struct IndexFile: Codable, Sendable {
    struct Blob: Codable, Sendable, Hashable {
        var id: String
        var type: UInt8
        var offset: UInt64
        var length: UInt32
        var rawLength: UInt32
        var compressed: Bool
    }

    struct Pack: Codable, Sendable {
        var id: String
        /// The pack's length in bytes: an appended or truncated pack is caught without reading it.
        var size: UInt64
        var blobs: [Blob]
    }

    var version: Int = 1
    var supersedes: [String] = []
    var packs: [Pack]

    static let associatedData = Array("lifeboat.index.v1".utf8)

    init(packs: [Pack], supersedes: [String] = []) {
        self.packs = packs
        self.supersedes = supersedes
    }

    init(pack: ObjectID, size: Int, entries: [PackFormat.Entry]) {
        packs = [
            Pack(
                id: pack.hex, size: UInt64(size),
                blobs: entries.map {
                    Blob(
                        id: $0.id.hex, type: $0.type.rawValue, offset: $0.offset, length: $0.length,
                        rawLength: $0.rawLength, compressed: $0.compressed)
                })
        ]
    }

    /// The locations this index file records; throws on malformed IDs or types.
    func locations(context: String) throws -> [BlobLocation] {
        var result: [BlobLocation] = []
        for pack in packs {
            guard let packID = ObjectID(hex: pack.id) else { throw FormatError("\(context): bad pack ID \(pack.id)") }
            for blob in pack.blobs {
                guard let id = ObjectID(hex: blob.id), let type = BlobType(rawValue: blob.type) else {
                    throw FormatError("\(context): bad blob entry \(blob.id)")
                }
                result.append(
                    BlobLocation(
                        type: type, id: id, pack: packID, offset: blob.offset, length: blob.length,
                        rawLength: blob.rawLength, compressed: blob.compressed))
            }
        }
        return result
    }
}

/// A `snapshots/<id>` object (encrypted JSON, associated data `lifeboat.snapshot.v1`).
public struct Snapshot: Codable, Sendable, Equatable {
    public struct Totals: Codable, Sendable, Equatable {
        public var files: UInt64 = 0
        public var directories: UInt64 = 0
        public var bytes: UInt64 = 0
        public var bytesAdded: UInt64 = 0
        public init() {}
    }

    public struct Verification: Codable, Sendable, Equatable {
        public var time: String
        public var method: String
        public var passed: Bool
        public var detail: String
    }

    public var version: Int = 1
    /// RFC 3339 UTC with nanoseconds.
    public var time: String
    public var host: String
    public var username: String
    public var paths: [String]
    /// Root tree blob, hex.
    public var tree: String
    public var parent: String?
    /// "files" or "image".
    public var kind: String
    public var agentID: String?
    public var policyID: String?
    public var policyVersion: Int?
    public var tags: [String]
    public var totals: Totals
    public var verification: [Verification]
    public var program: String

    static let associatedData = Array("lifeboat.snapshot.v1".utf8)

    public init(
        time: Date = Date(), host: String, username: String, paths: [String], tree: BlobID, parent: ObjectID?,
        kind: String = "files", tags: [String] = [], totals: Totals = Totals(), program: String
    ) {
        self.time = TimeText.format(time)
        self.host = host
        self.username = username
        self.paths = paths
        self.tree = tree.hex
        self.parent = parent?.hex
        self.kind = kind
        self.tags = tags
        self.totals = totals
        self.verification = []
        self.program = program
    }

    public var treeID: BlobID? { BlobID(hex: tree) }
    public var date: Date? { TimeText.parse(time) }
}

/// A snapshot together with the ID it is stored under.
public struct SnapshotRecord: Sendable {
    public let id: ObjectID
    public let snapshot: Snapshot
}

/// A `locks/<id>` object (encrypted JSON, associated data `lifeboat.lock.v1`).
struct LockFile: Codable, Sendable {
    var time: String
    var host: String
    var pid: Int32
    var username: String
    var exclusive: Bool

    static let associatedData = Array("lifeboat.lock.v1".utf8)
}
