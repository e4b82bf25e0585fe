import Foundation
import Testing
@testable import LifeboatRepository

/// Golden files pin every encoding of repository format v1: an accidental change to how trees,
/// pack headers, index files, snapshots, locks or the config are written fails here.
/// After an intended format change (which needs a new format version), regenerate with
/// `LIFEBOAT_UPDATE_GOLDEN=1 swift test --filter FormatGoldenTests`.
@Suite struct FormatGoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    func matchGolden(_ name: String, _ bytes: [UInt8]) throws {
        let url = Self.directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["LIFEBOAT_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        let golden = try [UInt8](Data(contentsOf: url))
        #expect(golden == bytes, "encoding of \(name) changed")
    }

    static func id(_ byte: UInt8) -> ObjectID { ObjectID(digest: [UInt8](repeating: byte, count: 32)) }

    static let sampleTree = Tree(nodes: [
        Node(
            name: [0x66, 0xff, 0x0a, 0x1b], kind: .file, mode: 0o4755, uid: 1000, gid: 1000, user: "alice",
            group: "staff", mtime: Timestamp(seconds: -86_400, nanoseconds: 123_456_789),
            atime: Timestamp(seconds: 4_102_444_800, nanoseconds: 1), ctime: Timestamp(seconds: 1_700_000_000, nanoseconds: 0),
            size: 5 << 30, device: 2049, inode: 77, linkCount: 2,
            xattrs: [ExtendedAttribute(name: Array("security.capability".utf8), value: [0, 1, 2]), ExtendedAttribute(name: Array("user.b".utf8), value: [1])],
            flags: 0x10, content: [id(1), id(2)], extents: [Extent(offset: 0, length: 4096), Extent(offset: 1 << 32, length: 8192)]),
        Node(name: Array("dir".utf8), kind: .directory, mode: 0o1777, subtree: id(3)),
        Node(name: Array("link".utf8), kind: .symlink, mode: 0o777, linkTarget: Array("../../etc/passwd".utf8)),
        Node(name: Array("null".utf8), kind: .characterDevice, mode: 0o666, rdev: 0x103),
    ])

    @Test func treeEncoding() throws {
        let encoded = TreeCoding.encode(Self.sampleTree)
        try matchGolden("tree-v1.bin", encoded)
        #expect(try TreeCoding.decode(encoded, context: "golden") == Self.sampleTree)
    }

    @Test func treeDecodingRejectsTruncationEverywhere() throws {
        let encoded = TreeCoding.encode(Self.sampleTree)
        for length in stride(from: 0, to: encoded.count, by: 7) {
            #expect(throws: FormatError.self) { try TreeCoding.decode(Array(encoded[0..<length]), context: "cut") }
        }
    }

    @Test func packHeaderEncoding() throws {
        let entries = [
            PackFormat.Entry(type: .data, id: Self.id(1), offset: 0, length: 1000, rawLength: 4000, compressed: true),
            PackFormat.Entry(type: .tree, id: Self.id(2), offset: 1000, length: 50, rawLength: 22, compressed: false),
        ]
        let encoded = PackFormat.encodeHeader(entries)
        try matchGolden("pack-header-v1.bin", encoded)
        #expect(try PackFormat.decodeHeader(encoded, context: "golden") == entries)
        #expect(PackFormat.blobAssociatedData(.tree, Self.id(2)) == Array("lifeboat.blob.v1".utf8) + [1] + Self.id(2).bytes)
    }

    @Test func indexEncoding() throws {
        let file = IndexFile(pack: Self.id(9), size: 1028, entries: [
            PackFormat.Entry(type: .data, id: Self.id(1), offset: 0, length: 1000, rawLength: 4000, compressed: true)
        ])
        try matchGolden("index-v1.json", try CanonicalJSON.encode(file))
    }

    @Test func snapshotEncoding() throws {
        var snapshot = Snapshot(
            time: Date(timeIntervalSince1970: 1_750_000_000.25), host: "web-1", username: "root",
            paths: ["/srv/data", "/etc"], tree: Self.id(4), parent: Self.id(5), tags: ["nightly"], program: "lifeboat 0.1.0")
        snapshot.totals.files = 10
        snapshot.totals.bytes = 1 << 40
        try matchGolden("snapshot-v1.json", try CanonicalJSON.encode(snapshot))
        #expect(snapshot.time == "2025-06-15T15:06:40.250000000Z")
    }

    @Test func configAndLockEncoding() throws {
        let config = RepositoryConfig(id: String(repeating: "ab", count: 32))
        try matchGolden("config-v2.json", try CanonicalJSON.encode(config))
        // Version 1 differs only in its number (its sealed JSON objects are never compressed).
        var versionOne = config
        versionOne.version = 1
        try matchGolden("config-v1.json", try CanonicalJSON.encode(versionOne))
        let lock = LockFile(time: "2026-01-01T00:00:00.000000000Z", host: "h", pid: 42, username: "root", exclusive: false)
        try matchGolden("lock-v1.json", try CanonicalJSON.encode(lock))
    }
}
