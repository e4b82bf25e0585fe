import Testing
import LifeboatCrypto

@Suite struct PrimitivesTests {
    @Test func constantTimeComparison() {
        #expect(constantTimeEquals([], []))
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([0, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(!constantTimeEquals([], [0]))
    }

    @Test func secureRandom() throws {
        #expect(try SecureRandom.bytes(count: 0) == [])
        let a = try SecureRandom.bytes(count: 32)
        let b = try SecureRandom.bytes(count: 32)
        #expect(a.count == 32)
        #expect(a != b)
        expectCryptoError(.invalidParameter) { _ = try SecureRandom.bytes(count: -1) }
    }

    @Test func symmetricKey() throws {
        let key = SymmetricKey(bytes: [9, 8, 7])
        #expect(key.byteCount == 3)
        #expect(bytes(of: key) == [9, 8, 7])
        #expect(key == SymmetricKey(bytes: [9, 8, 7]))
        #expect(key != SymmetricKey(bytes: [9, 8, 6]))
        #expect(key != SymmetricKey(bytes: [9, 8]))
        #expect("\(key)" == "SymmetricKey(3 bytes)")
        let random = try SymmetricKey.random()
        #expect(random.byteCount == 32)
        #expect(random != (try SymmetricKey.random()))
        #expect(try SymmetricKey.random(byteCount: 64).byteCount == 64)
        expectCryptoError(.invalidParameter) { _ = try SymmetricKey.random(byteCount: 0) }
        #expect(SymmetricKey(bytes: []).byteCount == 0)
    }

    @Test func errorDescriptions() {
        let error = CryptoError(code: .authenticationFailure, message: "tag mismatch")
        #expect(error.description == "authentication failed: tag mismatch")
        #expect(error == CryptoError(code: .authenticationFailure, message: "tag mismatch"))
    }
}
