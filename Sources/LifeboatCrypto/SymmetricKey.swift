internal import COpenSSL

/// Secret key bytes, held in memory this module owns and zeroes (OPENSSL_cleanse) on release.
///
/// Copies of a `SymmetricKey` share one storage object, so the bytes exist once however often
/// the key is passed around; they are wiped when the last copy goes away. The array given to
/// `init(bytes:)` is the caller's and is not wiped.
public struct SymmetricKey: Sendable {
    private let storage: KeyStorage

    /// Copies `bytes` into owned storage.
    public init(bytes: [UInt8]) {
        storage = KeyStorage(byteCount: bytes.count)
        bytes.withUnsafeBytes { source in
            storage.bytes.copyMemory(from: source)
        }
    }

    /// A key of `byteCount` bytes from OpenSSL's CSPRNG (RAND_bytes), written straight into
    /// owned storage so the secret is never in an ordinary array.
    public static func random(byteCount: Int = 32) throws -> SymmetricKey {
        guard byteCount > 0, byteCount <= Int(Int32.max) else {
            throw CryptoError.invalidParameter("key byte count \(byteCount) out of range")
        }
        let storage = KeyStorage(byteCount: byteCount)
        try SecureRandom.fill(storage.bytes)
        return SymmetricKey(storage: storage)
    }

    /// Wraps storage that the caller has filled (random or KDF output).
    init(storage: KeyStorage) {
        self.storage = storage
    }

    /// The key length in bytes.
    public var byteCount: Int { storage.bytes.count }

    /// Gives `body` read access to the key bytes; do not let the pointer escape.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(storage.bytes))
    }
}

extension SymmetricKey: Equatable {
    /// Compares two keys in constant time for equal lengths (CRYPTO_memcmp).
    public static func == (lhs: SymmetricKey, rhs: SymmetricKey) -> Bool {
        guard lhs.byteCount == rhs.byteCount else { return false }
        if lhs.byteCount == 0 { return true }
        return lhs.withUnsafeBytes { a in
            rhs.withUnsafeBytes { b in
                guard let pa = a.baseAddress, let pb = b.baseAddress else { return false }
                return CRYPTO_memcmp(pa, pb, a.count) == 0
            }
        }
    }
}

extension SymmetricKey: CustomStringConvertible {
    /// Never shows the key bytes, so a key that ends up in a log line leaks nothing.
    public var description: String { "SymmetricKey(\(byteCount) bytes)" }
}

/// Owned, immutable-after-init key memory, zeroed with OPENSSL_cleanse in deinit (a plain
/// memset could be optimised away).
///
/// `@unchecked Sendable`: the bytes are written only before the object is shared and only read
/// afterwards.
final class KeyStorage: @unchecked Sendable {
    let bytes: UnsafeMutableRawBufferPointer

    init(byteCount: Int) {
        // At least one byte so `baseAddress` is never nil, even for an empty key.
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(byteCount, 1), alignment: 16)
        raw.initializeMemory(as: UInt8.self, repeating: 0)
        bytes = UnsafeMutableRawBufferPointer(rebasing: raw[0..<byteCount])
        allocation = raw
    }

    private let allocation: UnsafeMutableRawBufferPointer

    deinit {
        if let base = allocation.baseAddress {
            OPENSSL_cleanse(base, allocation.count)
        }
        allocation.deallocate()
    }
}
