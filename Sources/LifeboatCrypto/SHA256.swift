internal import COpenSSL

/// SHA-256 (FIPS 180-4) in one call, via EVP_Digest with a digest fetched once.
public enum SHA256 {
    /// The digest length in bytes.
    public static let byteCount = 32

    /// The SHA-256 digest of `data`.
    public static func hash(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        let md = Algorithms.sha256.required()
        return [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
            var length: UInt32 = 0
            // EVP_Digest skips the update for a zero count, so a nil base address is fine.
            guard EVP_Digest(data.baseAddress, data.count, buffer.baseAddress, &length, md, nil) == 1,
                  length == UInt32(byteCount)
            else {
                fatalError("LifeboatCrypto: \(CryptoError.library("EVP_Digest(SHA-256)"))")
            }
            initialized = byteCount
        }
    }

    /// The SHA-256 digest of `data`.
    public static func hash(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { hash($0) }
    }
}

/// Incremental SHA-256 over an EVP_MD_CTX, for data that arrives in pieces (pack files, streams).
///
/// Not thread-safe: use one hasher per thread. After `finalize()` the hasher is reset and can be
/// used for a new message.
public final class SHA256Hasher {
    private let context: OpaquePointer

    /// A hasher in the initial state (EVP_MD_CTX_new + EVP_DigestInit_ex2).
    public init() {
        guard let context = EVP_MD_CTX_new() else {
            fatalError("LifeboatCrypto: EVP_MD_CTX_new failed (out of memory)")
        }
        self.context = context
        reset()
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    private func reset() {
        guard EVP_DigestInit_ex2(context, Algorithms.sha256.required(), nil) == 1 else {
            fatalError("LifeboatCrypto: \(CryptoError.library("EVP_DigestInit_ex2(SHA-256)"))")
        }
    }

    /// Feeds `data` to the hash (EVP_DigestUpdate).
    public func update(_ data: UnsafeRawBufferPointer) {
        guard let base = data.baseAddress, !data.isEmpty else { return }
        guard EVP_DigestUpdate(context, base, data.count) == 1 else {
            fatalError("LifeboatCrypto: \(CryptoError.library("EVP_DigestUpdate(SHA-256)"))")
        }
    }

    /// Feeds `data` to the hash.
    public func update(_ data: [UInt8]) {
        data.withUnsafeBytes { update($0) }
    }

    /// The digest of everything fed so far (EVP_DigestFinal_ex); then resets the hasher.
    public func finalize() -> [UInt8] {
        let digest = [UInt8](unsafeUninitializedCapacity: SHA256.byteCount) { buffer, initialized in
            var length: UInt32 = 0
            guard EVP_DigestFinal_ex(context, buffer.baseAddress, &length) == 1,
                  length == UInt32(SHA256.byteCount)
            else {
                fatalError("LifeboatCrypto: \(CryptoError.library("EVP_DigestFinal_ex(SHA-256)"))")
            }
            initialized = SHA256.byteCount
        }
        reset()
        return digest
    }
}

@available(*, unavailable, message: "SHA256Hasher is mutable state; use one per thread")
extension SHA256Hasher: Sendable {}
