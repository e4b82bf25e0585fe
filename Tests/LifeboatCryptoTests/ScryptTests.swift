import Foundation
import Testing
import LifeboatCrypto

/// RFC 7914 section 12 test vectors.
@Suite struct ScryptTests {
    @Test func n16() throws {
        let key = try Scrypt.deriveKey(
            password: [], salt: [], parameters: .init(n: 16, r: 1, p: 1), byteCount: 64)
        #expect(bytes(of: key) == hex("""
            77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442\
            fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906
            """))
    }

    @Test func n1024() throws {
        let key = try Scrypt.deriveKey(
            password: Array("password".utf8), salt: Array("NaCl".utf8),
            parameters: .init(n: 1024, r: 8, p: 16), byteCount: 64)
        #expect(bytes(of: key) == hex("""
            fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162\
            2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640
            """))
    }

    @Test func n16384() throws {
        let key = try Scrypt.deriveKey(
            password: Array("pleaseletmein".utf8), salt: Array("SodiumChloride".utf8),
            parameters: .init(n: 16384, r: 8, p: 1), byteCount: 64)
        #expect(bytes(of: key) == hex("""
            7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2\
            d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887
            """))
    }

    /// The N = 2^20 vector needs 1 GiB and several seconds: run with LIFEBOAT_SLOW_TESTS=1.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LIFEBOAT_SLOW_TESTS"] != nil))
    func n1048576() throws {
        let key = try Scrypt.deriveKey(
            password: Array("pleaseletmein".utf8), salt: Array("SodiumChloride".utf8),
            parameters: .init(n: 1_048_576, r: 8, p: 1), byteCount: 64)
        #expect(bytes(of: key) == hex("""
            2101cb9b6a511aaeaddbbe09cf70f881ec568d574a2ffd4dabe5ee9820adaa47\
            8e56fd8f4ba5d09ffa1c6d927c40f4c337304049e8a952fbcbf45c6fa77a41a4
            """))
    }

    @Test(arguments: [0, 1, 3, 1000, 1023] as [UInt64])
    func rejectsNNotPowerOfTwoAboveOne(n: UInt64) {
        expectCryptoError(.invalidParameter) {
            _ = try Scrypt.deriveKey(password: [1], salt: [2], parameters: .init(n: n, r: 8, p: 1), byteCount: 32)
        }
    }

    @Test func rejectsZeroRAndPAndHugeMemory() {
        expectCryptoError(.invalidParameter) {
            _ = try Scrypt.deriveKey(password: [], salt: [], parameters: .init(n: 16, r: 0, p: 1), byteCount: 32)
        }
        expectCryptoError(.invalidParameter) {
            _ = try Scrypt.deriveKey(password: [], salt: [], parameters: .init(n: 16, r: 1, p: 0), byteCount: 32)
        }
        // 2^40 · 128 · 8 bytes: refused before anything is allocated.
        expectCryptoError(.invalidParameter) {
            _ = try Scrypt.deriveKey(password: [], salt: [], parameters: .init(n: 1 << 40, r: 8, p: 1), byteCount: 32)
        }
        expectCryptoError(.invalidParameter) {
            _ = try Scrypt.deriveKey(password: [], salt: [], parameters: .init(n: 1 << 63, r: .max, p: .max), byteCount: 32)
        }
    }

    @Test func parametersRoundTripThroughJSON() throws {
        let data = try JSONEncoder().encode(Scrypt.Parameters.interactive)
        let decoded = try JSONDecoder().decode(Scrypt.Parameters.self, from: data)
        #expect(decoded == .interactive)
        #expect(decoded == Scrypt.Parameters(n: 32768, r: 8, p: 1))
    }
}
