internal import COpenSSL

/// Ed25519 signature verification (RFC 8032, pure Ed25519), for signed policies; via
/// EVP_PKEY_new_raw_public_key_ex and EVP_DigestVerify, OpenSSL's one-shot interface that
/// Ed25519 requires.
public enum Ed25519 {
    public static let publicKeyByteCount = 32
    public static let signatureByteCount = 64

    /// True if `signature` is a valid Ed25519 signature of `message` under `publicKey`.
    ///
    /// False, never an error, for anything else: wrong lengths, a public key that is not a
    /// curve point, a bad signature, or an OpenSSL failure.
    public static func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard signature.count == signatureByteCount, publicKey.count == publicKeyByteCount else {
            return false
        }
        // Leave nothing in this thread's OpenSSL error queue, whatever the outcome.
        defer { ERR_clear_error() }

        let key = publicKey.withUnsafeBufferPointer { bytes in
            EVP_PKEY_new_raw_public_key_ex(nil, "ED25519", nil, bytes.baseAddress, bytes.count)
        }
        guard let key else { return false }
        defer { EVP_PKEY_free(key) }

        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        // Ed25519 hashes internally: no digest name.
        guard EVP_DigestVerifyInit_ex(context, nil, nil, nil, nil, key, nil) == 1 else { return false }

        // An empty message still needs a valid pointer for some providers.
        var dummy: UInt8 = 0
        return signature.withUnsafeBufferPointer { sig in
            if message.isEmpty {
                return EVP_DigestVerify(context, sig.baseAddress, sig.count, &dummy, 0) == 1
            }
            return message.withUnsafeBufferPointer { msg in
                EVP_DigestVerify(context, sig.baseAddress, sig.count, msg.baseAddress, msg.count) == 1
            }
        }
    }
}
