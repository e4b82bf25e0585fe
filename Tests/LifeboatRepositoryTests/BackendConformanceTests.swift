import Foundation
import Testing
@testable import LifeboatRepository

/// One suite, run against every backend: the contract the repository relies on.
@Suite struct BackendConformanceTests {
    static func makeBackends() -> [(String, any Backend, () -> Void)] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lb-backend-\(UUID().uuidString)").path
        let local = LocalBackend(root: directory)
        try? local.createLayout()
        return [
            ("memory", MemoryBackend(), {}),
            ("local", local, { try? FileManager.default.removeItem(atPath: directory) }),
        ]
    }

    @Test func saveLoadListRemove() throws {
        for (label, backend, cleanup) in Self.makeBackends() {
            defer { cleanup() }
            let pack = ObjectName(.data, String(repeating: "ab", count: 32))
            let bytes = pseudoRandomBytes(100_000, seed: 4)
            try backend.save(pack, bytes: bytes)
            try backend.save(.config, bytes: Array("{}".utf8))
            #expect(try backend.load(pack) == bytes, "\(label)")
            #expect(try backend.load(pack, offset: 10, length: 20) == Array(bytes[10..<30]), "\(label)")
            #expect(try backend.size(pack) == bytes.count, "\(label)")
            #expect(try backend.list(.data).map(\.name) == [pack.name], "\(label)")
            #expect(try backend.list(.config).map(\.name) == ["config"], "\(label)")
            #expect(try backend.list(.snapshot).isEmpty, "\(label)")
            try backend.remove(pack)
            #expect(!backend.exists(pack), "\(label)")
        }
    }

    @Test func missingObjectsAndBadRangesAreClearErrors() throws {
        for (label, backend, cleanup) in Self.makeBackends() {
            defer { cleanup() }
            let name = ObjectName(.snapshot, "00")
            #expect(throws: BackendError.self, "\(label)") { try backend.load(name) }
            do {
                _ = try backend.load(name)
            } catch let error as BackendError {
                #expect(error.code == .notFound, "\(label)")
            }
            try backend.save(name, bytes: [1, 2, 3])
            #expect(throws: BackendError.self, "\(label)") { try backend.load(name, offset: 2, length: 5) }
            #expect(throws: BackendError.self, "\(label)") { try backend.remove(ObjectName(.lock, "x")) }
        }
    }

    @Test func localBackendLeavesNoTemporaryFilesAndIgnoresStrayOnes() throws {
        let (_, backend, cleanup) = Self.makeBackends()[1]
        defer { cleanup() }
        guard let local = backend as? LocalBackend else { return }
        try local.save(ObjectName(.index, "aa"), bytes: [1])
        _ = FileManager.default.createFile(atPath: local.root + "/index/.tmp-stray", contents: Data([9]))
        #expect(try local.list(.index).map(\.name) == ["aa"])
        let names = try FileManager.default.contentsOfDirectory(atPath: local.root + "/index")
        #expect(names.sorted() == [".tmp-stray", "aa"])
    }
}
