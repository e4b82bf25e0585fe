internal import COpenSSL

/// An OpenSSL algorithm implementation fetched once from the default provider
/// (EVP_MD_fetch, EVP_MAC_fetch, EVP_KDF_fetch, EVP_CIPHER_fetch).
///
/// OpenSSL 3 otherwise looks the implementation up by name, under a global lock, on every
/// one-shot call (EVP_sha256(), HMAC(), ...), which costs time and contends between threads.
/// Fetched objects are reference-counted and immutable, so one may be used by any number of
/// threads at once. The instances below live for the whole process and are never freed.
///
/// `@unchecked Sendable`: the pointer is set once in `init` and OpenSSL documents fetched
/// algorithm objects as safe to share between threads.
final class FetchedAlgorithm: @unchecked Sendable {
    let name: String
    private let pointer: OpaquePointer?
    private let failure: CryptoError?

    init(name: String, fetch: (String) -> OpaquePointer?) {
        self.name = name
        let fetched = fetch(name)
        pointer = fetched
        failure = fetched == nil ? CryptoError.library("fetching \(name)") : nil
    }

    /// The algorithm, or `libraryFailure` if this OpenSSL build or configuration lacks it.
    func get() throws -> OpaquePointer {
        guard let pointer else {
            throw failure ?? CryptoError.library("fetching \(name)")
        }
        return pointer
    }

    /// The algorithm, for APIs that cannot throw. A libcrypto without SHA-256 or HMAC (which
    /// even the FIPS provider has) is a broken installation, not a recoverable condition.
    func required() -> OpaquePointer {
        guard let pointer else {
            fatalError("LifeboatCrypto: OpenSSL does not provide \(name): \(failure?.message ?? "")")
        }
        return pointer
    }
}

enum Algorithms {
    static let sha256 = FetchedAlgorithm(name: "SHA2-256") { EVP_MD_fetch(nil, $0, nil) }
    static let hmac = FetchedAlgorithm(name: "HMAC") { EVP_MAC_fetch(nil, $0, nil) }
    static let hkdf = FetchedAlgorithm(name: "HKDF") { EVP_KDF_fetch(nil, $0, nil) }
    static let scrypt = FetchedAlgorithm(name: "SCRYPT") { EVP_KDF_fetch(nil, $0, nil) }
    static let aes256GCM = FetchedAlgorithm(name: "AES-256-GCM") { EVP_CIPHER_fetch(nil, $0, nil) }
}
