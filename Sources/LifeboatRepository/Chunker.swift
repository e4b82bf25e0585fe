/// FastCDC content-defined chunking (Xia et al., 2016) with normalised chunking and a gear
/// table keyed per repository, so chunk boundaries do not reveal content to the storage provider.
///
/// The chunker is a pure function of (gear table, parameters, bytes): the same input always
/// gives the same cuts, and a cut depends only on the bytes just before it, so boundaries
/// re-synchronise shortly after an insertion or deletion.
public struct Chunker: Sendable {
    public struct Parameters: Sendable, Hashable {
        public var minimum: Int
        public var average: Int
        public var maximum: Int

        public init(minimum: Int, average: Int, maximum: Int) {
            precondition(minimum >= 64 && minimum <= average && average <= maximum)
            precondition(average & (average - 1) == 0, "average chunk size must be a power of two")
            self.minimum = minimum
            self.average = average
            self.maximum = maximum
        }

        /// DESIGN.md §4: 512 KiB / 1 MiB / 8 MiB for files.
        public static let files = Parameters(minimum: 512 << 10, average: 1 << 20, maximum: 8 << 20)
    }

    public let parameters: Parameters
    private let gear: [UInt64]
    /// Normalised masks: harder to cut before the average size, easier after. High bits are used
    /// because in a gear hash low bit k depends only on the last k+1 bytes.
    private let strictMask: UInt64
    private let looseMask: UInt64

    /// - Parameter gear: 256 pseudo-random words derived from the repository's secret.
    public init(gear: [UInt64], parameters: Parameters = .files) {
        precondition(gear.count == 256, "gear table must have 256 entries")
        self.gear = gear
        self.parameters = parameters
        let bits = parameters.average.trailingZeroBitCount
        strictMask = Chunker.highBitsMask(count: bits + 2)
        looseMask = Chunker.highBitsMask(count: max(bits - 2, 1))
    }

    private static func highBitsMask(count: Int) -> UInt64 {
        count >= 64 ? ~0 : ~(~UInt64(0) >> UInt64(count))
    }

    /// The length of the chunk that starts at the beginning of `buffer`.
    ///
    /// Pass at least `parameters.maximum` bytes unless the data ends sooner: the result is
    /// always `<= buffer.count`, and equals `buffer.count` when no cut point was found in it.
    public func cut(_ buffer: UnsafeRawBufferPointer) -> Int {
        let count = buffer.count
        if count <= parameters.minimum { return count }
        let end = min(count, parameters.maximum)
        let normal = min(end, parameters.average)
        guard let base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return count }
        return gear.withUnsafeBufferPointer { gear -> Int in
            guard let table = gear.baseAddress else { return count }
            var hash: UInt64 = 0
            // Bytes before the minimum are skipped, as in FastCDC: the hash window is 64 bytes,
            // so starting the hash just before the minimum gives the same cuts.
            for index in (parameters.minimum - 64)..<parameters.minimum {
                hash = (hash &<< 1) &+ table[Int(base[index])]
            }
            return Chunker.firstCut(base, table, parameters.minimum, normal, strictMask, &hash)
                ?? Chunker.firstCut(base, table, normal, end, looseMask, &hash)
                ?? end
        }
    }

    /// The end of the first chunk cut in `base[from..<to]`, rolling `hash` on; nil if none.
    @inline(__always)
    private static func firstCut(
        _ base: UnsafePointer<UInt8>, _ table: UnsafePointer<UInt64>, _ from: Int, _ to: Int,
        _ mask: UInt64, _ hash: inout UInt64
    ) -> Int? {
        var index = from
        // Four bytes per turn: with one, the loop's own bookkeeping cost as much as the hash.
        while index &+ 4 <= to {
            for step in 0..<4 {
                hash = (hash &<< 1) &+ table[Int(base[index &+ step])]
                if hash & mask == 0 { return index &+ step &+ 1 }
            }
            index &+= 4
        }
        while index < to {
            hash = (hash &<< 1) &+ table[Int(base[index])]
            if hash & mask == 0 { return index &+ 1 }
            index &+= 1
        }
        return nil
    }
}
