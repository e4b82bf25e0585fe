internal import COpenSSL

/// HMAC-SHA256 (RFC 2104) in one call, via EVP_MAC with the MAC implementation fetched once.
///
/// Called for every chunk from several threads; each call uses its own EVP_MAC_CTX, and the
/// fetched "HMAC" object avoids the per-call name lookup that one-shot HMAC() does.
public enum HMACSHA256 {
    /// The tag length in bytes.
    public static let byteCount = 32

    /// The HMAC-SHA256 tag of `data` under `key` (any key length, including empty).
    public static func authenticate(_ data: UnsafeRawBufferPointer, key: SymmetricKey) -> [UInt8] {
        do {
            return try compute(data, key: key)
        } catch {
            fatalError("LifeboatCrypto: \(error)")
        }
    }

    /// The HMAC-SHA256 tag of `data` under `key`.
    public static func authenticate(_ data: [UInt8], key: SymmetricKey) -> [UInt8] {
        data.withUnsafeBytes { authenticate($0, key: key) }
    }

    private static func compute(_ data: UnsafeRawBufferPointer, key: SymmetricKey) throws -> [UInt8] {
        guard let context = EVP_MAC_CTX_new(Algorithms.hmac.required()) else {
            throw CryptoError.library("EVP_MAC_CTX_new")
        }
        defer { EVP_MAC_CTX_free(context) }

        // OSSL_MAC_PARAM_DIGEST is "digest"; the C strings live for the duration of the call.
        try "digest".withCString { name in
            try "SHA2-256".withCString { digest in
                let parameters = [
                    OSSL_PARAM_construct_utf8_string(name, UnsafeMutablePointer(mutating: digest), 0),
                    OSSL_PARAM_construct_end(),
                ]
                // KeyStorage never has a nil base address, even for an empty key; EVP_MAC_init
                // would treat a nil key as "reuse the previous key" and fail.
                let ok = key.withUnsafeBytes { keyBytes in
                    parameters.withUnsafeBufferPointer { list in
                        EVP_MAC_init(
                            context, keyBytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                            keyBytes.count, list.baseAddress)
                    }
                }
                guard ok == 1 else { throw CryptoError.library("EVP_MAC_init(HMAC-SHA256)") }
            }
        }
        if let base = data.baseAddress, !data.isEmpty {
            guard EVP_MAC_update(context, base.assumingMemoryBound(to: UInt8.self), data.count) == 1 else {
                throw CryptoError.library("EVP_MAC_update")
            }
        }
        return try [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
            var length = 0
            guard EVP_MAC_final(context, buffer.baseAddress, &length, byteCount) == 1,
                  length == byteCount
            else {
                throw CryptoError.library("EVP_MAC_final")
            }
            initialized = byteCount
        }
    }
}
