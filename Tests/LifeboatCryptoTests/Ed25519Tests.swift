import Testing
import LifeboatCrypto

/// RFC 8032 section 7.1, tests 1-3 (verification only).
@Suite struct Ed25519Tests {
    struct Vector: Sendable {
        let number: Int
        let publicKey: [UInt8]
        let message: [UInt8]
        let signature: [UInt8]
    }

    static let vectors: [Vector] = [
        Vector(number: 1,
               publicKey: hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
               message: [],
               signature: hex("""
                   e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155\
                   5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b
                   """)),
        Vector(number: 2,
               publicKey: hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"),
               message: hex("72"),
               signature: hex("""
                   92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
                   085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00
                   """)),
        Vector(number: 3,
               publicKey: hex("fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025"),
               message: hex("af82"),
               signature: hex("""
                   6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac\
                   18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a
                   """)),
    ]

    @Test(arguments: 1...3)
    func verifiesRFC8032(number: Int) {
        let v = Self.vectors[number - 1]
        #expect(Ed25519.verify(signature: v.signature, message: v.message, publicKey: v.publicKey))
    }

    @Test(arguments: 1...3)
    func rejectsAlteredMessageSignatureOrKey(number: Int) {
        let v = Self.vectors[number - 1]
        #expect(!Ed25519.verify(signature: v.signature, message: v.message + [0], publicKey: v.publicKey))
        var signature = v.signature
        signature[10] ^= 1
        #expect(!Ed25519.verify(signature: signature, message: v.message, publicKey: v.publicKey))
        let other = Self.vectors[number % 3].publicKey
        #expect(!Ed25519.verify(signature: v.signature, message: v.message, publicKey: other))
    }

    @Test func rejectsWrongLengths() {
        let v = Self.vectors[0]
        #expect(!Ed25519.verify(signature: Array(v.signature.dropLast()), message: v.message, publicKey: v.publicKey))
        #expect(!Ed25519.verify(signature: v.signature, message: v.message, publicKey: Array(v.publicKey.dropLast())))
        #expect(!Ed25519.verify(signature: [], message: [], publicKey: []))
    }
}
