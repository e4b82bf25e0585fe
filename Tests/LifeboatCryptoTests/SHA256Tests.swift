import Testing
import LifeboatCrypto

/// FIPS 180-2 appendix B examples (and the empty message).
@Suite struct SHA256Tests {
    static let vectors: [(message: String, digest: String)] = [
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",  // 448 bits
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ]

    @Test(arguments: 0..<vectors.count)
    func knownAnswer(index: Int) {
        let vector = Self.vectors[index]
        #expect(SHA256.hash(Array(vector.message.utf8)) == hex(vector.digest))
    }

    @Test func pointerVariantHandlesEmptyBuffer() {
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        #expect(SHA256.hash(empty) == hex(Self.vectors[1].digest))
    }

    @Test func millionAs() {
        // FIPS 180-2 B.3: one million repetitions of "a".
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hash(message) == hex("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"))
    }

    @Test func incrementalEqualsOneShot() {
        var generator = SystemRandomNumberGenerator()
        let data = (0..<100_003).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let hasher = SHA256Hasher()
        var offset = 0
        for size in [0, 1, 63, 64, 65, 1000, 4096, 50_000] {
            hasher.update(Array(data[offset..<(offset + size)]))
            offset += size
        }
        data[offset...].withUnsafeBytes { hasher.update($0) }
        #expect(hasher.finalize() == SHA256.hash(data))
    }

    @Test func hasherResetsAfterFinalize() {
        let hasher = SHA256Hasher()
        hasher.update(Array("abc".utf8))
        #expect(hasher.finalize() == hex(Self.vectors[0].digest))
        #expect(hasher.finalize() == hex(Self.vectors[1].digest))
        hasher.update(Array("ab".utf8))
        hasher.update(Array("c".utf8))
        #expect(hasher.finalize() == hex(Self.vectors[0].digest))
    }
}
