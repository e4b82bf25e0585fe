import Foundation
import LifeboatCrypto
import Testing
@testable import LifeboatRepository

let fastScrypt = Scrypt.Parameters(n: 1024, r: 8, p: 1)
let passphrase = Array("correct horse".utf8)

func makeRepository(_ backend: any Backend = MemoryBackend(), packSize: Int = 1 << 20) throws -> Repository {
    try Repository.initialize(backend: backend, passphrase: passphrase, scrypt: fastScrypt, packSize: packSize, cache: .memory)
}

@discardableResult
func store(_ repository: Repository, _ bytes: [UInt8]) throws -> BlobID {
    try bytes.withUnsafeBytes { raw in
        let id = repository.blobID(of: raw)
        try repository.save(.data, id: id, plaintext: raw)
        return id
    }
}

@Suite struct RepositoryTests {
    @Test func blobsRoundTripAcrossReopenAndDeduplicate() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(backend)
        let data = pseudoRandomBytes(300_000, seed: 1)
        let text = Array(String(repeating: "compressible text ", count: 10_000).utf8)
        let a = try store(repository, data)
        let b = try store(repository, text)
        let again = try data.withUnsafeBytes { try repository.save(.data, id: a, plaintext: $0) }
        #expect(again == 0)
        try repository.flush()
        let reopened = try Repository.open(backend: backend, passphrase: passphrase, cache: .memory)
        #expect(try reopened.load(.data, id: a) == data)
        #expect(try reopened.load(.data, id: b) == text)
        #expect(reopened.contains(a, type: .data))
        #expect(!reopened.contains(a, type: .tree))
        // Compressible data is stored compressed.
        let indexed = try #require(try reopened.index.lookup(.data, b))
        #expect(indexed.compressed && indexed.length < UInt32(text.count) / 4)
    }

    @Test func storedBytesRevealNeitherPlaintextNorPlainHash() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(backend)
        let secret = Array(String(repeating: "TOP-SECRET-PAYLOAD ", count: 100).utf8)
        let id = try store(repository, secret)
        try repository.flush()
        #expect(id.bytes != SHA256.hash(secret))
        for kind in ObjectKind.allCases where kind != .config {
            for entry in try backend.list(kind) {
                let bytes = try backend.load(ObjectName(kind, entry.name))
                #expect(!String(decoding: bytes, as: UTF8.self).contains("TOP-SECRET"))
            }
        }
    }

    @Test func wrongPassphraseMissingRepositoryAndUnknownVersionAreNamed() throws {
        let backend = MemoryBackend()
        _ = try makeRepository(backend)
        #expect(throws: RepositoryError(.wrongPassphrase, "")) {
            try Repository.open(backend: backend, passphrase: Array("nope".utf8), cache: .memory)
        }
        #expect(throws: RepositoryError(.repositoryMissing, "")) {
            try Repository.open(backend: MemoryBackend(), passphrase: passphrase, cache: .memory)
        }
        #expect(throws: RepositoryError(.alreadyExists, "")) { try makeRepository(backend) }
        var config = try Repository.loadConfig(backend)
        config.version = 7
        try backend.save(.config, bytes: try CanonicalJSON.encode(config))
        do {
            _ = try Repository.open(backend: backend, passphrase: passphrase, cache: .memory)
            Issue.record("opened a version 7 repository")
        } catch let error as RepositoryError {
            #expect(error.code == .unsupportedVersion)
            #expect(error.message.contains("version 7"))
        }
    }

    @Test func damagedConfigSaysWhatIsWrong() throws {
        let backend = MemoryBackend()
        _ = try makeRepository(backend)
        let cases: [(String, String)] = [
            ("not json at all", "not a JSON object"),
            (#"{"version":"2"}"#, #""version" is missing"#),
            (#"{"id":"ab"}"#, #""version" is missing"#),
            (#"{"version":0}"#, "not a format version"),
        ]
        for (config, expected) in cases {
            try backend.remove(.config)
            try backend.save(.config, bytes: Array(config.utf8))
            let error = #expect(throws: RepositoryError.self) {
                try Repository.open(backend: backend, passphrase: passphrase, cache: .memory)
            }
            #expect(error?.code == .damagedConfig, "\(config)")
            #expect(error?.message.contains(expected) == true, "\(config): \(error?.message ?? "")")
        }
    }

    @Test func truncatedKeyFileIsReportedAsDamaged() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(backend)
        backend.corrupt(ObjectName(.key, repository.keyID)) { $0.removeLast($0.count / 2) }
        do {
            _ = try Repository.open(backend: backend, passphrase: passphrase, cache: .memory)
            Issue.record("opened with a truncated key")
        } catch let error as RepositoryError {
            #expect(error.code == .damagedKey)
            #expect(error.message.contains(repository.keyID))
        }
    }

    @Test func addedKeyOpensTheSameData() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(backend)
        let id = try store(repository, [1, 2, 3])
        try repository.flush()
        _ = try repository.addKey(passphrase: Array("second".utf8), scrypt: fastScrypt)
        let other = try Repository.open(backend: backend, passphrase: Array("second".utf8), cache: .memory)
        #expect(try other.load(.data, id: id) == [1, 2, 3])
        #expect(try other.listKeys().count == 2)
    }

    @Test func indexIsWrittenPerPackAsTheBackupGoes() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(backend, packSize: 256 << 10)
        for seed in 1...8 { try store(repository, pseudoRandomBytes(100_000, seed: UInt64(seed))) }
        // Packs that filled up are uploaded and indexed before flush, with no flush.
        try repository.waitForUploads()
        let packsBefore = try backend.list(.data).count
        #expect(packsBefore >= 2)
        #expect(try backend.list(.index).count == packsBefore)
        try repository.flush()
        // The last, partly filled pack only goes out with flush.
        #expect(try backend.list(.data).count == packsBefore + 1)
        #expect(try backend.list(.index).count == (try backend.list(.data).count))
    }

    @Test func indexFilesAreStoredCompressedAndPlainOnesStillRead() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(backend, packSize: 64 << 10)
        let ids = try (1...40).map { try store(repository, pseudoRandomBytes(5_000, seed: UInt64($0))) }
        try repository.flush()
        let indexFiles = try backend.list(.index)
        #expect(!indexFiles.isEmpty)
        for entry in indexFiles {
            let name = ObjectName(.index, entry.name)
            let plain = try repository.open(try backend.load(name), IndexFile.associatedData, object: name.path)
            #expect(Zstd.isFrame(plain), "index file \(entry.name) is not compressed")
            let json = try Zstd.decompressFrame(plain, limit: 1 << 20)
            #expect(json.first == UInt8(ascii: "{"))
            #expect(plain.count * 2 < json.count, "an index file's JSON shrinks to less than half")
            // The same index file as plain sealed JSON (what earlier versions wrote) reads too.
            try backend.remove(name)
            try backend.save(name, bytes: try repository.seal(json, IndexFile.associatedData))
        }
        let reopened = try Repository.open(backend: backend, passphrase: passphrase, cache: .memory)
        for (seed, id) in zip(1..., ids) {
            #expect(try reopened.load(.data, id: id) == pseudoRandomBytes(5_000, seed: UInt64(seed)))
        }
        #expect(try reopened.check(readData: false).isClean)
    }

    @Test func unindexedPacksOfAKilledBackupAreAdopted() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(backend, packSize: 64 << 10)
        let blobs = (1...4).map { pseudoRandomBytes(80_000, seed: UInt64($0)) }
        for blob in blobs { try store(repository, blob) }
        try repository.flush()
        // Simulate a kill between pack upload and index write: drop the index files.
        for entry in try backend.list(.index) { try backend.remove(ObjectName(.index, entry.name)) }
        let reopened = try Repository.open(backend: backend, passphrase: passphrase, cache: .memory)
        #expect(try reopened.adoptUnindexedPacks() == 4)
        let packs = try backend.list(.data).count
        for blob in blobs {
            let added = try blob.withUnsafeBytes { try reopened.save(.data, id: reopened.blobID(of: $0), plaintext: $0) }
            #expect(added == 0)
        }
        try reopened.flush()
        #expect(try backend.list(.data).count == packs)
    }

    @Test func staleCacheIsDetectedAndRebuilt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lb-cache-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let backend = MemoryBackend()
        let cache = CacheLocation.directory(directory)
        let repository = try Repository.initialize(
            backend: backend, passphrase: passphrase, scrypt: fastScrypt, packSize: 1 << 20, cache: cache)
        let id = try store(repository, pseudoRandomBytes(5000, seed: 1))
        try repository.flush()
        // Rewrite the index under new names, as a compaction would: the cache's index file
        // IDs no longer exist, so the next open must rebuild instead of trusting them.
        let original = try backend.list(.index)
        for entry in original {
            let bytes = try backend.load(ObjectName(.index, entry.name))
            try backend.remove(ObjectName(.index, entry.name))
            try backend.save(ObjectName(.index, String(repeating: "f", count: 64)), bytes: bytes)
        }
        let reopened = try Repository.open(backend: backend, passphrase: passphrase, cache: cache)
        #expect(try reopened.index.indexFileIDs() == [String(repeating: "f", count: 64)])
        #expect(try reopened.load(.data, id: id).count == 5000)
        // Deleting the cache loses nothing.
        try FileManager.default.removeItem(atPath: directory)
        let fresh = try Repository.open(backend: backend, passphrase: passphrase, cache: cache)
        #expect(try fresh.load(.data, id: id).count == 5000)
    }

    @Test func damagedBlobIsNeverReturnedAndCheckNamesThePack() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(backend)
        let id = try store(repository, pseudoRandomBytes(50_000, seed: 3))
        let tree = try repository.saveTree(Tree(nodes: [Node(name: Array("f".utf8), kind: .file, size: 50_000, content: [id])]))
        try repository.flush()
        _ = try repository.saveSnapshot(
            Snapshot(host: "h", username: "u", paths: ["/f"], tree: tree, parent: nil, program: "test"))
        #expect(try repository.check(readData: true).isClean)
        let location = try #require(try repository.index.lookup(.data, id))
        backend.corrupt(ObjectName(.data, location.pack.hex)) { $0[Int(location.offset) + 100] ^= 0x01 }
        #expect(throws: RepositoryError.self) { try repository.load(.data, id: id) }
        let report = try repository.check(readData: true)
        #expect(!report.isClean)
        #expect(report.damagedPacks == [location.pack.hex])
        #expect(report.errors.contains { $0.contains(location.pack.hex) })
        // The structure check alone does not read data; it still passes the header test.
        #expect(try repository.check(readData: false).isClean)
    }

    @Test func snapshotsResolveByPrefixAndLatest() throws {
        let repository = try makeRepository()
        let tree = try repository.saveTree(Tree(nodes: []))
        try repository.flush()
        var ids: [ObjectID] = []
        for second in 0..<3 {
            ids.append(try repository.saveSnapshot(
                Snapshot(time: Date(timeIntervalSince1970: 1_700_000_000 + Double(second)), host: "h", username: "u",
                    paths: ["/x"], tree: tree, parent: nil, program: "test")))
        }
        #expect(try repository.findSnapshot("latest").id == ids[2])
        #expect(try repository.findSnapshot(String(ids[0].hex.prefix(12))).id == ids[0])
        #expect(throws: RepositoryError(.snapshotNotFound, "")) { try repository.findSnapshot("deadbeefdead") }
    }

    @Test func staleLockOfADeadProcessIsTakenOver() throws {
        let repository = try makeRepository()
        let dead = LockFile(
            time: TimeText.format(Date()), host: ProcessInfo.processInfo.hostName, pid: 999_999, username: "x",
            exclusive: true)
        _ = try repository.saveJSON(dead, kind: .lock, associatedData: LockFile.associatedData)
        let lock = try RepositoryLock.acquire(repository, exclusive: false)
        #expect(try repository.backend.list(.lock).count == 1)
        // A second shared lock coexists; an exclusive one is refused while they live.
        let second = try RepositoryLock.acquire(repository, exclusive: false)
        #expect(throws: RepositoryError(.locked, "")) { try RepositoryLock.acquire(repository, exclusive: true) }
        lock.release()
        second.release()
        #expect(try repository.backend.list(.lock).isEmpty)
    }
}
