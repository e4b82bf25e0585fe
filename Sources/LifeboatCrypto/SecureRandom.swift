internal import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's DRBG (RAND_bytes), which is seeded from
/// the kernel and safe to call from several threads.
public enum SecureRandom {
    /// `count` random bytes; throws `invalidParameter` for a negative count and
    /// `libraryFailure` if the DRBG cannot produce output.
    public static func bytes(count: Int) throws -> [UInt8] {
        guard count >= 0 else {
            throw CryptoError.invalidParameter("random byte count \(count) is negative")
        }
        if count == 0 { return [] }
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            try fill(UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }

    /// Fills `buffer` with random bytes (RAND_bytes, in pieces of at most Int32.max bytes).
    static func fill(_ buffer: UnsafeMutableRawBufferPointer) throws {
        guard var base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let piece = min(remaining, Int(Int32.max))
            guard RAND_bytes(base, Int32(piece)) == 1 else {
                throw CryptoError.library("RAND_bytes")
            }
            base += piece
            remaining -= piece
        }
    }
}
