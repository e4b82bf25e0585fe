import Synchronization

/// A Bloom filter over blob keys (type and ID): "certainly absent" or "maybe present".
///
/// The index cache consults it before asking SQLite, because a first backup asks about every
/// chunk and nearly all are new: a SQLite lookup (a WAL read transaction with its locks) costs
/// about 20 µs, the filter well under one. It never answers "absent" for a key inserted into it;
/// a wrong "maybe" only costs the SQLite lookup it would have cost anyway.
///
/// Blob IDs are HMAC-SHA256 outputs, uniformly distributed, so their bytes serve directly as the
/// filter's hash values (double hashing over two 64-bit words of the ID).
final class BlobFilter: Sendable {
    /// Bits set per key: with 10 or more bits per key, about 1% of absent keys read "maybe".
    static let probes = 7

    private let words: Mutex<[UInt64]>
    private let bitMask: UInt64

    /// A filter of at least `bitCount` bits, rounded up to a power of two (at least 64).
    init(bitCount: Int) {
        var bits = 64
        while bits < bitCount { bits <<= 1 }
        words = Mutex([UInt64](repeating: 0, count: bits / 64))
        bitMask = UInt64(bits - 1)
    }

    /// A size for `keyCount` keys with room to grow: 16 bits per key, at least 8 Mi bits
    /// (1 MiB, about 800 000 keys at 1%), at most 512 Mi bits (64 MiB); past that the filter
    /// says "maybe" more often, which costs lookups, never correctness.
    static func bitCount(forKeys keyCount: Int) -> Int {
        let (wanted, overflow) = keyCount.multipliedReportingOverflow(by: 16)
        return overflow ? 512 << 20 : min(max(wanted, 8 << 20), 512 << 20)
    }

    var bitCount: Int { Int(bitMask) + 1 }

    func insert(_ type: BlobType, _ id: BlobID) {
        let positions = self.positions(type, id)
        words.withLock { words in
            for position in positions { words[Int(position >> 6)] |= 1 << (position & 63) }
        }
    }

    func mightContain(_ type: BlobType, _ id: BlobID) -> Bool {
        let positions = self.positions(type, id)
        return words.withLock { words in
            positions.allSatisfy { words[Int($0 >> 6)] & (1 << ($0 & 63)) != 0 }
        }
    }

    private func positions(_ type: BlobType, _ id: BlobID) -> [UInt64] {
        let bytes = id.bytes
        func word(_ start: Int) -> UInt64 {
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[start + $1]) << (8 * UInt64($1)) }
        }
        // The type is folded in so that a tree and a data blob with one ID do not collide.
        let first = word(0) ^ UInt64(type.rawValue) &* 0x9E37_79B9_7F4A_7C15
        let step = word(8) | 1
        return (0..<Self.probes).map { (first &+ UInt64($0) &* step) & bitMask }
    }
}
