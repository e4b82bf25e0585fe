import Foundation
import Testing
@testable import LifeboatRepository

/// A repository written by lifeboat 0.1.0 (format v1) and committed: today's code must still
/// open it, list it, read every byte and pass `check`. This pins the whole format, including the
/// key derivation, sealing, pack layout and chunk IDs, not just the plaintext encodings.
@Suite struct GoldenRepositoryTests {
    static let location = FormatGoldenTests.directory.appendingPathComponent("repository-v1").path

    @Test func repositoryOfFormatV1StillReads() throws {
        let repository = try Repository.open(
            backend: LocalBackend(root: Self.location), passphrase: Array("golden passphrase".utf8), cache: .memory)
        let snapshot = try repository.findSnapshot("latest")
        #expect(snapshot.id.hex.hasPrefix("f5068ba6"))
        #expect(snapshot.snapshot.paths == ["/tmp/golden-src/docs"])
        var tree = try repository.loadTree(try #require(snapshot.snapshot.treeID))
        for component in ["tmp", "golden-src", "docs"] {
            tree = try repository.loadTree(try #require(tree.node(named: Array(component.utf8))?.subtree))
        }
        #expect(tree.nodes.map { String(decoding: $0.name, as: UTF8.self) } == ["link", "numbers.txt", "readme.txt"])
        let readme = try #require(tree.node(named: Array("readme.txt".utf8)))
        #expect(readme.mtime == Timestamp(seconds: 1_577_934_245, nanoseconds: 123_456_789))
        let text = try readme.content.flatMap { try repository.load(.data, id: $0) }
        #expect(String(decoding: text, as: UTF8.self) == "Lifeboat golden repository v1\n")
        let numbers = try #require(tree.node(named: Array("numbers.txt".utf8)))
        let expected = (1...20000).map(String.init).joined(separator: "\n") + "\n"
        #expect(try numbers.content.flatMap { try repository.load(.data, id: $0) } == Array(expected.utf8))
        #expect(tree.node(named: Array("link".utf8))?.linkTarget == Array("readme.txt".utf8))
        #expect(try repository.check(readData: true).isClean)
    }

    /// A version 1 repository stays version 1 when written to: its new index files are plain
    /// sealed JSON, which releases that only know version 1 read.
    @Test func versionOneRepositoryIsWrittenInItsOwnForm() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("lb-golden-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: Self.location, toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let backend = LocalBackend(root: copy)
        let before = Set(try backend.list(.index).map(\.name))
        let repository = try Repository.open(backend: backend, passphrase: Array("golden passphrase".utf8), cache: .memory)
        #expect(repository.config.version == 1)
        let added = try store(repository, pseudoRandomBytes(50_000, seed: 7))
        try repository.flush()
        let new = try backend.list(.index).map(\.name).filter { !before.contains($0) }
        #expect(new.count == 1)
        for name in new {
            let object = ObjectName(.index, name)
            let plain = try repository.open(try backend.load(object), IndexFile.associatedData, object: object.path)
            #expect(plain.first == UInt8(ascii: "{"), "a version 1 repository got a compressed index file")
        }
        #expect(try Repository.loadConfig(backend).version == 1)
        #expect(try repository.load(.data, id: added) == pseudoRandomBytes(50_000, seed: 7))
    }
}
