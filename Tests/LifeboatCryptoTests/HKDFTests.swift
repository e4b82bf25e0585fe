import Testing
import LifeboatCrypto

/// RFC 5869 appendix A, test cases 1-3 (SHA-256).
@Suite struct HKDFTests {
    @Test func case1Basic() throws {
        let okm = try HKDF.deriveKey(
            from: SymmetricKey(bytes: [UInt8](repeating: 0x0b, count: 22)),
            salt: Array(0x00...0x0c), info: Array(0xf0...0xf9), byteCount: 42)
        #expect(bytes(of: okm) == hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"))
    }

    @Test func case2LongInputs() throws {
        let okm = try HKDF.deriveKey(
            from: SymmetricKey(bytes: Array(0x00...0x4f)),
            salt: Array(0x60...0xaf), info: Array(0xb0...0xff), byteCount: 82)
        #expect(bytes(of: okm) == hex("""
            b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c\
            59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71\
            cc30c58179ec3e87c14c01d5c1f3434f1d87
            """))
    }

    @Test func case3EmptySaltAndInfo() throws {
        let okm = try HKDF.deriveKey(
            from: SymmetricKey(bytes: [UInt8](repeating: 0x0b, count: 22)), salt: [], info: [], byteCount: 42)
        #expect(bytes(of: okm) == hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"))
    }

    @Test func rejectsBadLengths() {
        let key = SymmetricKey(bytes: [1, 2, 3])
        expectCryptoError(.invalidParameter) { _ = try HKDF.deriveKey(from: key, salt: [], info: [], byteCount: 0) }
        expectCryptoError(.invalidParameter) { _ = try HKDF.deriveKey(from: key, salt: [], info: [], byteCount: 255 * 32 + 1) }
        expectCryptoError(.invalidParameter) {
            _ = try HKDF.deriveKey(from: SymmetricKey(bytes: []), salt: [], info: [], byteCount: 32)
        }
    }

    @Test func differentInfoGivesDifferentKeys() throws {
        let master = try SymmetricKey.random()
        let a = try HKDF.deriveKey(from: master, salt: [], info: Array("data".utf8), byteCount: 32)
        let b = try HKDF.deriveKey(from: master, salt: [], info: Array("id".utf8), byteCount: 32)
        #expect(a != b)
        #expect(a == (try HKDF.deriveKey(from: master, salt: [], info: Array("data".utf8), byteCount: 32)))
    }
}
