import Foundation
import LifeboatCrypto

/// The repository's secrets, all derived from one random master key with HKDF-SHA256
/// (salt: the repository ID), so each purpose has its own key.
public struct RepositoryKeys: Sendable {
    /// AES-256-GCM key for every encrypted object.
    let encryption: SymmetricKey
    /// HMAC-SHA256 key for chunk IDs: the provider cannot confirm content by hash.
    let blobID: SymmetricKey
    /// Seeds the chunker's gear table.
    let gear: [UInt64]

    init(master: SymmetricKey, repositoryID: [UInt8]) throws {
        func derive(_ purpose: String, _ count: Int) throws -> SymmetricKey {
            try HKDF.deriveKey(
                from: master, salt: repositoryID, info: Array("lifeboat.v1.\(purpose)".utf8), byteCount: count)
        }
        encryption = try derive("encryption", 32)
        blobID = try derive("blob-id", 32)
        gear = try derive("gear", 256 * 8).withUnsafeBytes { raw in
            (0..<256).map { i in raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self).littleEndian }
        }
    }
}

/// A `keys/<id>` object: the master key wrapped under a key derived from a passphrase.
///
/// Stored as JSON; `wrapped` is AES-256-GCM(master key) under scrypt(passphrase, salt), with
/// the associated data `lifeboat.key.v1`. The object's ID is the SHA-256 of its bytes.
struct KeyFile: Codable, Sendable {
    var version: Int
    var created: String
    var host: String
    var username: String
    var kdf: String
    var scrypt: Scrypt.Parameters
    var salt: Data
    var wrapped: Data

    static let associatedData = Array("lifeboat.key.v1".utf8)

    static func create(master: SymmetricKey, passphrase: [UInt8], parameters: Scrypt.Parameters) throws -> KeyFile {
        let salt = try SecureRandom.bytes(count: 32)
        let wrapping = try Scrypt.deriveKey(password: passphrase, salt: salt, parameters: parameters, byteCount: 32)
        let sealed = try master.withUnsafeBytes {
            try AESGCM.seal($0, key: wrapping, associatedData: associatedData)
        }
        return KeyFile(
            version: 1, created: TimeText.format(Date()), host: ProcessInfo.processInfo.hostName,
            username: ProcessInfo.processInfo.environment["USER"] ?? "", kdf: "scrypt",
            scrypt: parameters, salt: Data(salt), wrapped: Data(sealed))
    }

    /// The master key, or nil when the passphrase does not open this key file.
    func unwrap(passphrase: [UInt8]) throws -> SymmetricKey? {
        let wrapping = try Scrypt.deriveKey(
            password: passphrase, salt: Array(salt), parameters: scrypt, byteCount: 32)
        guard let master = try? AESGCM.open(Array(wrapped), key: wrapping, associatedData: KeyFile.associatedData)
        else { return nil }
        return SymmetricKey(bytes: master)
    }
}
