import LifeboatCrypto
import Testing
@testable import LifeboatRepository

@Suite struct BlobFilterTests {
    static func randomID() throws -> BlobID {
        try #require(ObjectID(bytes: try SecureRandom.bytes(count: 32)))
    }

    @Test func insertedKeysAreNeverAbsentAndFewAbsentKeysReadMaybe() throws {
        let filter = BlobFilter(bitCount: 1 << 17)
        let inserted = try (0..<10_000).map { _ in try Self.randomID() }
        for id in inserted { filter.insert(.data, id) }
        #expect(inserted.allSatisfy { filter.mightContain(.data, $0) })
        // 13 bits per key and 7 probes: about 0.3% of absent keys read "maybe"; allow 1%.
        let absent = try (0..<20_000).map { _ in try Self.randomID() }
        let maybes = absent.filter { filter.mightContain(.data, $0) }.count
        #expect(maybes < 200, "\(maybes) of 20000 absent keys read maybe")
    }

    @Test func theTypeIsPartOfTheKey() throws {
        let filter = BlobFilter(bitCount: 1 << 16)
        let id = try Self.randomID()
        filter.insert(.tree, id)
        #expect(filter.mightContain(.tree, id))
        #expect(!filter.mightContain(.data, id))
    }

    @Test func sizeGrowsWithTheIndexWithinBounds() {
        #expect(BlobFilter.bitCount(forKeys: 0) == 8 << 20)
        #expect(BlobFilter.bitCount(forKeys: 1_000_000) == 16_000_000)
        #expect(BlobFilter.bitCount(forKeys: Int.max) == 512 << 20)
        #expect(BlobFilter(bitCount: 100).bitCount == 128)
    }

    /// The filter is built from the cache at the first save and then follows the packs indexed
    /// in the session: a blob saved again after its pack was indexed is not stored twice.
    @Test func blobIndexedInThisSessionIsFoundThroughTheFilter() throws {
        let backend = MemoryBackend()
        let repository = try makeRepository(backend)
        let blob = pseudoRandomBytes(30_000, seed: 11)
        try store(repository, blob)
        try repository.flush()
        let added = try blob.withUnsafeBytes { try repository.save(.data, id: repository.blobID(of: $0), plaintext: $0) }
        #expect(added == 0)
        try repository.flush()
        #expect(try backend.list(.data).count == 1)
    }
}
