internal import COpenSSL

/// HKDF-SHA256 (RFC 5869, extract then expand), via the EVP_KDF "HKDF" implementation.
public enum HKDF {
    /// The most output HKDF-SHA256 can produce: 255 blocks of 32 bytes.
    public static let maximumByteCount = 255 * 32

    /// Derives `byteCount` bytes from `key` (input keying material), `salt` (may be empty, which
    /// RFC 5869 treats as 32 zero bytes) and `info` (context, may be empty).
    ///
    /// Throws `invalidParameter` for an empty key or `byteCount` outside 1...8160.
    public static func deriveKey(
        from key: SymmetricKey, salt: [UInt8], info: [UInt8], byteCount: Int
    ) throws -> SymmetricKey {
        guard byteCount > 0, byteCount <= maximumByteCount else {
            throw CryptoError.invalidParameter("HKDF output length \(byteCount) not in 1...\(maximumByteCount)")
        }
        guard key.byteCount > 0 else {
            throw CryptoError.invalidParameter("HKDF input key is empty")
        }
        guard let context = EVP_KDF_CTX_new(try Algorithms.hkdf.get()) else {
            throw CryptoError.library("EVP_KDF_CTX_new(HKDF)")
        }
        defer { EVP_KDF_CTX_free(context) }

        // Names are OSSL_KDF_PARAM_DIGEST, _KEY, _SALT and _INFO from core_names.h.
        let parameters = ParameterList()
        parameters.addUTF8("digest", "SHA2-256")
        key.withUnsafeBytes { parameters.addOctets("key", $0) }
        if !salt.isEmpty { parameters.addOctets("salt", salt) }
        if !info.isEmpty { parameters.addOctets("info", info) }

        return try KDFOutput.derive(byteCount: byteCount, name: "EVP_KDF_derive(HKDF)") { output in
            parameters.withParameters { list in
                EVP_KDF_derive(context, output.baseAddress, output.count, list)
            }
        }
    }
}

/// Runs a KDF straight into key storage, so derived secrets never sit in an ordinary array.
enum KDFOutput {
    static func derive(
        byteCount: Int, name: String,
        _ run: (UnsafeMutableBufferPointer<UInt8>) -> Int32
    ) throws -> SymmetricKey {
        let storage = KeyStorage(byteCount: byteCount)
        let output = storage.bytes.bindMemory(to: UInt8.self)
        guard run(output) == 1 else { throw CryptoError.library(name) }
        return SymmetricKey(storage: storage)
    }
}
