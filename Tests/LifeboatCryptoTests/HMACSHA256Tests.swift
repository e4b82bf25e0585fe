import Testing
import LifeboatCrypto

/// RFC 4231 test cases 1-7 for HMAC-SHA-256.
@Suite struct HMACSHA256Tests {
    struct Vector: Sendable {
        let number: Int
        let key: [UInt8]
        let data: [UInt8]
        /// Expected tag; case 5 gives only the first 128 bits.
        let tag: [UInt8]
    }

    static let vectors: [Vector] = [
        Vector(number: 1, key: [UInt8](repeating: 0x0b, count: 20), data: Array("Hi There".utf8),
               tag: hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")),
        Vector(number: 2, key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8),
               tag: hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")),
        Vector(number: 3, key: [UInt8](repeating: 0xaa, count: 20), data: [UInt8](repeating: 0xdd, count: 50),
               tag: hex("773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe")),
        Vector(number: 4, key: Array(1...25), data: [UInt8](repeating: 0xcd, count: 50),
               tag: hex("82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b")),
        Vector(number: 5, key: [UInt8](repeating: 0x0c, count: 20), data: Array("Test With Truncation".utf8),
               tag: hex("a3b6167473100ee06e0c796c2955552b")),
        Vector(number: 6, key: [UInt8](repeating: 0xaa, count: 131),
               data: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
               tag: hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")),
        Vector(number: 7, key: [UInt8](repeating: 0xaa, count: 131),
               data: Array(("This is a test using a larger than block-size key and a larger than block-size data. "
                   + "The key needs to be hashed before being used by the HMAC algorithm.").utf8),
               tag: hex("9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2")),
    ]

    @Test(arguments: vectors.map(\.number))
    func rfc4231(number: Int) {
        let vector = Self.vectors[number - 1]
        let tag = HMACSHA256.authenticate(vector.data, key: SymmetricKey(bytes: vector.key))
        #expect(tag.count == 32)
        #expect(Array(tag.prefix(vector.tag.count)) == vector.tag)
    }

    @Test func emptyKeyAndData() {
        // HMAC with an empty key equals HMAC with a block of zeros.
        let a = HMACSHA256.authenticate([], key: SymmetricKey(bytes: []))
        let b = HMACSHA256.authenticate([], key: SymmetricKey(bytes: [UInt8](repeating: 0, count: 64)))
        #expect(a == b)
        #expect(a == hex("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"))
    }

    @Test func concurrentCallsAgree() async {
        let key = SymmetricKey(bytes: Array(0..<32))
        let data = [UInt8](repeating: 0x5a, count: 1 << 20)
        let expected = HMACSHA256.authenticate(data, key: key)
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    (0..<8).allSatisfy { _ in HMACSHA256.authenticate(data, key: key) == expected }
                }
            }
            for await agreed in group { #expect(agreed) }
        }
    }
}
