import Testing
@testable import LifeboatRepository

/// Deterministic pseudo-random bytes (xorshift), so tests are repeatable without fixtures.
func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = (seed &* 0x9E37_79B9_7F4A_7C15) | 1
    var out = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        out[i] = UInt8(truncatingIfNeeded: state >> 24)
    }
    return out
}

func gearTable(seed: UInt64) -> [UInt64] {
    let bytes = pseudoRandomBytes(256 * 8, seed: seed)
    return (0..<256).map { i in bytes[(i * 8)..<(i * 8 + 8)].reduce(0) { $0 << 8 | UInt64($1) } }
}

func cuts(_ chunker: Chunker, _ data: [UInt8]) -> [Int] {
    var result: [Int] = []
    var offset = 0
    data.withUnsafeBytes { raw in
        while offset < raw.count {
            let length = chunker.cut(UnsafeRawBufferPointer(rebasing: raw[offset...]))
            offset += length
            result.append(offset)
        }
    }
    return result
}

@Suite struct ChunkerTests {
    let small = Chunker.Parameters(minimum: 2048, average: 8192, maximum: 65536)

    @Test func sameInputAndKeyGiveSameCuts() {
        let data = pseudoRandomBytes(2 << 20, seed: 7)
        let chunker = Chunker(gear: gearTable(seed: 1), parameters: small)
        #expect(cuts(chunker, data) == cuts(chunker, data))
    }

    @Test func chunkSizesStayWithinBoundsAndNearTheAverage() {
        let data = pseudoRandomBytes(4 << 20, seed: 9)
        let chunker = Chunker(gear: gearTable(seed: 2), parameters: small)
        let boundaries = cuts(chunker, data)
        let sizes = zip(boundaries, [0] + boundaries).map { $0 - $1 }
        #expect(boundaries.last == data.count)
        for size in sizes.dropLast() {
            #expect(size >= small.minimum && size <= small.maximum)
        }
        let mean = Double(data.count) / Double(sizes.count)
        #expect(mean > Double(small.average) * 0.7 && mean < Double(small.average) * 2.0)
    }

    @Test func differentKeysGiveDifferentCuts() {
        let data = pseudoRandomBytes(1 << 20, seed: 3)
        let a = cuts(Chunker(gear: gearTable(seed: 1), parameters: small), data)
        let b = cuts(Chunker(gear: gearTable(seed: 99), parameters: small), data)
        #expect(a != b)
    }

    @Test func boundariesResynchroniseAfterAnInsertion() {
        let data = pseudoRandomBytes(4 << 20, seed: 11)
        var edited = data
        edited.insert(contentsOf: [1, 2, 3, 4, 5, 6, 7], at: 100_000)
        let chunker = Chunker(gear: gearTable(seed: 5), parameters: small)
        let before = Set(cuts(chunker, data).filter { $0 > 300_000 })
        let after = Set(cuts(chunker, edited).filter { $0 > 300_000 }.map { $0 - 7 })
        // Past the edit, (nearly) every cut point is found again, shifted by the insertion.
        let shared = before.intersection(after)
        #expect(Double(shared.count) >= Double(before.count) * 0.95)
    }

    @Test func shortInputIsOneChunk() {
        let chunker = Chunker(gear: gearTable(seed: 1), parameters: small)
        #expect(cuts(chunker, pseudoRandomBytes(1000, seed: 1)) == [1000])
        #expect(cuts(chunker, []) == [])
    }

    @Test func defaultParametersCutMegabyteChunks() {
        let data = pseudoRandomBytes(24 << 20, seed: 13)
        let chunker = Chunker(gear: gearTable(seed: 3))
        let boundaries = cuts(chunker, data)
        let sizes = zip(boundaries, [0] + boundaries).map { $0 - $1 }
        for size in sizes.dropLast() { #expect(size >= 512 << 10 && size <= 8 << 20) }
        #expect(sizes.count > 8 && sizes.count < 48)
    }
}
