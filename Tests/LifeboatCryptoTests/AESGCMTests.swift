import Testing
import LifeboatCrypto

/// AES-256-GCM: McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13-16.
@Suite struct AESGCMTests {
    struct Vector: Sendable {
        let number: Int
        let key: [UInt8]
        let nonce: [UInt8]
        let plaintext: [UInt8]
        let associatedData: [UInt8]
        let ciphertext: [UInt8]
        let tag: [UInt8]
    }

    static let key15 = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
    static let nonce15 = hex("cafebabefacedbaddecaf888")
    static let plaintext15 = hex("""
        d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
        1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255
        """)
    static let ciphertext15 = hex("""
        522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
        8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad
        """)

    static let vectors: [Vector] = [
        Vector(number: 13, key: [UInt8](repeating: 0, count: 32), nonce: [UInt8](repeating: 0, count: 12),
               plaintext: [], associatedData: [], ciphertext: [],
               tag: hex("530f8afbc74536b9a963b4f1c4cb738b")),
        Vector(number: 14, key: [UInt8](repeating: 0, count: 32), nonce: [UInt8](repeating: 0, count: 12),
               plaintext: [UInt8](repeating: 0, count: 16), associatedData: [],
               ciphertext: hex("cea7403d4d606b6e074ec5d3baf39d18"),
               tag: hex("d0d1c8a799996bf0265b98b5d48ab919")),
        Vector(number: 15, key: key15, nonce: nonce15, plaintext: plaintext15, associatedData: [],
               ciphertext: ciphertext15, tag: hex("b094dac5d93471bdec1a502270e3cc6c")),
        Vector(number: 16, key: key15, nonce: nonce15, plaintext: Array(plaintext15.prefix(60)),
               associatedData: hex("feedfacedeadbeeffeedfacedeadbeefabaddad2"),
               ciphertext: Array(ciphertext15.prefix(60)), tag: hex("76fc6ece0f4e1768cddf8853bb2d551b")),
    ]

    static func vector(_ number: Int) -> Vector {
        vectors[number - 13]
    }

    @Test(arguments: 13...16)
    func sealKnownAnswer(number: Int) throws {
        let v = Self.vector(number)
        let sealed = try AESGCM.seal(v.plaintext, key: SymmetricKey(bytes: v.key), associatedData: v.associatedData, nonce: v.nonce)
        #expect(sealed == v.nonce + v.ciphertext + v.tag)
        #expect(sealed.count == v.plaintext.count + AESGCM.overhead)
    }

    @Test(arguments: 13...16)
    func openKnownAnswer(number: Int) throws {
        let v = Self.vector(number)
        let opened = try AESGCM.open(v.nonce + v.ciphertext + v.tag, key: SymmetricKey(bytes: v.key), associatedData: v.associatedData)
        #expect(opened == v.plaintext)
    }

    @Test func randomNonceRoundTrip() throws {
        let key = try SymmetricKey.random()
        let message = Array("snapshot tree blob".utf8)
        let a = try AESGCM.seal(message, key: key, associatedData: [1, 2])
        let b = try AESGCM.seal(message, key: key, associatedData: [1, 2])
        #expect(a.prefix(12) != b.prefix(12), "nonces must differ")
        #expect(try AESGCM.open(a, key: key, associatedData: [1, 2]) == message)
        #expect(try AESGCM.open(b, key: key, associatedData: [1, 2]) == message)
    }

    @Test func largeRoundTripThroughPointers() throws {
        let key = try SymmetricKey.random()
        let message = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let sealed = try message.withUnsafeBytes { try AESGCM.seal($0, key: key, associatedData: []) }
        let opened = try sealed.withUnsafeBytes { try AESGCM.open($0, key: key, associatedData: []) }
        #expect(opened == message)
    }

    /// Flipping any single bit (nonce, ciphertext or tag) must fail authentication.
    @Test func everyBitFlipIsDetected() throws {
        let v = Self.vector(16)
        let key = SymmetricKey(bytes: v.key)
        let sealed = v.nonce + v.ciphertext + v.tag
        for index in sealed.indices {
            for bit in [0, 3, 7] {
                var damaged = sealed
                damaged[index] ^= 1 << bit
                expectCryptoError(.authenticationFailure) {
                    _ = try AESGCM.open(damaged, key: key, associatedData: v.associatedData)
                }
            }
        }
    }

    @Test func associatedDataTamperIsDetected() throws {
        let v = Self.vector(16)
        let key = SymmetricKey(bytes: v.key)
        let sealed = v.nonce + v.ciphertext + v.tag
        var aad = v.associatedData
        aad[5] ^= 0x10
        expectCryptoError(.authenticationFailure) { _ = try AESGCM.open(sealed, key: key, associatedData: aad) }
        expectCryptoError(.authenticationFailure) { _ = try AESGCM.open(sealed, key: key, associatedData: []) }
        expectCryptoError(.authenticationFailure) {
            _ = try AESGCM.open(sealed, key: key, associatedData: v.associatedData + [0])
        }
    }

    @Test func wrongKeyFails() throws {
        let sealed = try AESGCM.seal(Array("secret".utf8), key: try SymmetricKey.random(), associatedData: [])
        expectCryptoError(.authenticationFailure) {
            _ = try AESGCM.open(sealed, key: try SymmetricKey.random(), associatedData: [])
        }
    }

    @Test func truncatedInputFails() throws {
        let key = try SymmetricKey.random()
        let sealed = try AESGCM.seal([], key: key, associatedData: [])
        #expect(sealed.count == AESGCM.overhead)
        #expect(try AESGCM.open(sealed, key: key, associatedData: []) == [])
        for length in [0, 1, 12, 27] {
            expectCryptoError(.authenticationFailure) {
                _ = try AESGCM.open(Array(sealed.prefix(length)), key: key, associatedData: [])
            }
        }
        expectCryptoError(.authenticationFailure) {
            _ = try AESGCM.open(UnsafeRawBufferPointer(start: nil, count: 0), key: key, associatedData: [])
        }
        let long = try AESGCM.seal([1, 2, 3, 4], key: key, associatedData: [])
        expectCryptoError(.authenticationFailure) { _ = try AESGCM.open(Array(long.dropLast()), key: key, associatedData: []) }
    }

    @Test func rejectsBadKeyAndNonceLengths() throws {
        expectCryptoError(.invalidParameter) {
            _ = try AESGCM.seal([1], key: SymmetricKey(bytes: [UInt8](repeating: 0, count: 16)), associatedData: [])
        }
        expectCryptoError(.invalidParameter) {
            _ = try AESGCM.seal([1], key: try SymmetricKey.random(), associatedData: [], nonce: [1, 2, 3])
        }
        expectCryptoError(.invalidParameter) {
            _ = try AESGCM.open([UInt8](repeating: 0, count: 40), key: SymmetricKey(bytes: [1]), associatedData: [])
        }
    }

    @Test func concurrentSealAndOpen() async throws {
        let key = try SymmetricKey.random()
        let chunk = [UInt8](repeating: 0xa5, count: 1 << 20)
        await withTaskGroup(of: Bool.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    (0..<8).allSatisfy { i in
                        let aad: [UInt8] = [UInt8(worker), UInt8(i)]
                        guard let sealed = try? AESGCM.seal(chunk, key: key, associatedData: aad),
                              let opened = try? AESGCM.open(sealed, key: key, associatedData: aad)
                        else { return false }
                        return opened == chunk
                    }
                }
            }
            for await ok in group { #expect(ok) }
        }
    }
}
