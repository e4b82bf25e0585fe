import Testing
import LifeboatRepository

@Suite struct CompressionTests {
    /// Text-like data that compresses well.
    static let compressible: [UInt8] = {
        let line = Array("backup chunk \(0) of a very repetitive log file with timestamps 2026-12-03\n".utf8)
        return (0..<(1 << 20) / line.count).flatMap { i in line + [UInt8(truncatingIfNeeded: i)] }
    }()

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    func expectCompressionError(
        _ code: CompressionError.Code, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> Void
    ) {
        let error = #expect(throws: CompressionError.self, sourceLocation: sourceLocation) { try body() }
        #expect(error?.code == code, "got \(String(describing: error))", sourceLocation: sourceLocation)
    }

    @Test func roundTrip() throws {
        let input = Self.compressible
        let compressed = try Zstd.compress(input)
        #expect(compressed.count < input.count / 10)
        #expect(try Zstd.decompress(compressed, expectedSize: input.count) == input)
        // The pointer variants, and other levels.
        for level: Int32 in [-5, 1, 19] {
            let packed = try input.withUnsafeBytes { try Zstd.compress($0, level: level) }
            let unpacked = try packed.withUnsafeBytes { try Zstd.decompress($0, expectedSize: input.count) }
            #expect(unpacked == input)
        }
    }

    @Test func tableSizeOverridesRoundTripAndAreValidated() throws {
        let input = Self.compressible
        let tuned = try Zstd.compress(input, level: 3, hashLog: 16, chainLog: 14)
        #expect(try Zstd.decompress(tuned, expectedSize: input.count) == input)
        expectCompressionError(.invalidParameter) { _ = try Zstd.compress(input, chainLog: 99) }
        expectCompressionError(.invalidParameter) { _ = try Zstd.compress(input, hashLog: 2) }
    }

    @Test func pooledContextsDoNotCarryParametersOver() throws {
        let input = Self.compressible
        let first = try Zstd.compress(input, level: 1)
        _ = try Zstd.compress(input, level: 19, chainLog: 24)
        #expect(try Zstd.compress(input, level: 1) == first)
    }

    @Test func frameDecompressesToItsDeclaredSizeWithinTheLimit() throws {
        let input = Self.compressible
        let frame = try Zstd.compress(input)
        #expect(Zstd.isFrame(frame))
        #expect(!Zstd.isFrame(Array("{\"version\":1}".utf8)))
        #expect(try Zstd.decompressFrame(frame, limit: input.count) == input)
        // A frame declaring more than the caller allows is refused before allocating.
        expectCompressionError(.invalidParameter) { _ = try Zstd.decompressFrame(frame, limit: input.count - 1) }
        expectCompressionError(.corruptInput) { _ = try Zstd.decompressFrame(Array(frame[4...]), limit: 1 << 20) }
    }

    @Test func incompressible() throws {
        let input = Self.randomBytes(1 << 20)
        let compressed = try Zstd.compress(input)
        // Random data does not shrink; zstd stores it raw with a few bytes of framing.
        #expect(compressed.count >= input.count)
        #expect(compressed.count < input.count + 1024)
        #expect(try Zstd.decompress(compressed, expectedSize: input.count) == input)
    }

    @Test func empty() throws {
        let compressed = try Zstd.compress([])
        #expect(!compressed.isEmpty)
        #expect(try Zstd.decompress(compressed, expectedSize: 0) == [])
        let fromNilPointer = try Zstd.compress(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(try Zstd.decompress(fromNilPointer, expectedSize: 0) == [])
        expectCompressionError(.sizeMismatch) { _ = try Zstd.decompress(compressed, expectedSize: 1) }
    }

    @Test func corruptedInput() throws {
        let input = Self.compressible
        let compressed = try Zstd.compress(input)
        // Not zstd at all, empty, and a wrong magic number.
        expectCompressionError(.corruptInput) { _ = try Zstd.decompress(Array("hello, world".utf8), expectedSize: 12) }
        expectCompressionError(.corruptInput) { _ = try Zstd.decompress([], expectedSize: 0) }
        var badMagic = compressed
        badMagic[0] ^= 0xff
        expectCompressionError(.corruptInput) { _ = try Zstd.decompress(badMagic, expectedSize: input.count) }
        // Truncated frames.
        for length in [4, 10, compressed.count / 2, compressed.count - 1] {
            expectCompressionError(.corruptInput) {
                _ = try Zstd.decompress(Array(compressed.prefix(length)), expectedSize: input.count)
            }
        }
        // A valid header followed by garbage.
        let garbage = Array(compressed.prefix(6)) + Self.randomBytes(5000)
        #expect(throws: CompressionError.self) { _ = try Zstd.decompress(garbage, expectedSize: input.count) }
        // Trailing bytes after a valid frame.
        expectCompressionError(.corruptInput) {
            _ = try Zstd.decompress(compressed + [1, 2, 3, 4, 5, 6, 7, 8], expectedSize: input.count)
        }
    }

    @Test func wrongExpectedSize() throws {
        let input = Self.compressible
        let compressed = try Zstd.compress(input)
        expectCompressionError(.sizeMismatch) { _ = try Zstd.decompress(compressed, expectedSize: input.count - 1) }
        expectCompressionError(.sizeMismatch) { _ = try Zstd.decompress(compressed, expectedSize: input.count + 1) }
        expectCompressionError(.sizeMismatch) { _ = try Zstd.decompress(compressed, expectedSize: 0) }
    }

    /// Two concatenated frames skip the header check, so decoding itself must catch the size.
    @Test func wrongExpectedSizeAcrossFrames() throws {
        let a = Array("first frame ".utf8), b = Array("second frame".utf8)
        let both = try Zstd.compress(a) + Zstd.compress(b)
        #expect(try Zstd.decompress(both, expectedSize: a.count + b.count) == a + b)
        expectCompressionError(.sizeMismatch) { _ = try Zstd.decompress(both, expectedSize: a.count + b.count - 1) }
        expectCompressionError(.sizeMismatch) { _ = try Zstd.decompress(both, expectedSize: a.count + b.count + 1) }
    }

    @Test func rejectsOutOfRangeParameters() throws {
        let compressed = try Zstd.compress([1, 2, 3])
        expectCompressionError(.invalidParameter) {
            _ = try Zstd.decompress(compressed, expectedSize: Zstd.maximumDecompressedSize + 1)
        }
        expectCompressionError(.invalidParameter) { _ = try Zstd.decompress(compressed, expectedSize: -1) }
        expectCompressionError(.invalidParameter) { _ = try Zstd.compress([1, 2, 3], level: 1000) }
    }

    @Test func errorsDescribeThemselves() throws {
        let error = #expect(throws: CompressionError.self) {
            _ = try Zstd.decompress(try Zstd.compress([1, 2, 3]), expectedSize: 4)
        }
        #expect(error?.description.contains("expected 4") == true)
    }

    @Test func concurrentUse() async throws {
        let inputs = (0..<4).map { i in Self.compressible.map { $0 &+ UInt8(i) } }
        await withTaskGroup(of: Bool.self) { group in
            for input in inputs {
                group.addTask {
                    (0..<10).allSatisfy { _ in
                        guard let packed = try? Zstd.compress(input),
                              let unpacked = try? Zstd.decompress(packed, expectedSize: input.count)
                        else { return false }
                        return unpacked == input
                    }
                }
            }
            for await ok in group { #expect(ok) }
        }
    }
}
