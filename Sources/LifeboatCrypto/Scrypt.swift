internal import COpenSSL

/// scrypt (RFC 7914), the passphrase KDF for wrapping the master key, via the EVP_KDF "SCRYPT"
/// implementation.
public enum Scrypt {
    /// Cost parameters, stored beside each wrapped key so they can be raised later.
    public struct Parameters: Codable, Sendable, Hashable {
        /// CPU/memory cost; a power of two greater than 1.
        public var n: UInt64
        /// Block size.
        public var r: UInt32
        /// Parallelisation.
        public var p: UInt32

        public init(n: UInt64, r: UInt32, p: UInt32) {
            self.n = n
            self.r = r
            self.p = p
        }

        /// N = 2^15, r = 8, p = 1: about 32 MiB and a fraction of a second, the usual choice
        /// for a passphrase typed at a prompt.
        public static let interactive = Parameters(n: 32768, r: 8, p: 1)

        /// The memory scrypt needs for these parameters, as OpenSSL counts it:
        /// 128·r·(N + 2) for V plus 128·r·p for B; nil on overflow.
        public var memoryByteCount: UInt64? {
            let blockBytes = UInt64(r).multipliedReportingOverflow(by: 128)
            guard !blockBytes.overflow else { return nil }
            let vCount = n.addingReportingOverflow(2)
            guard !vCount.overflow else { return nil }
            let v = blockBytes.partialValue.multipliedReportingOverflow(by: vCount.partialValue)
            let b = blockBytes.partialValue.multipliedReportingOverflow(by: UInt64(p))
            guard !v.overflow, !b.overflow else { return nil }
            let total = v.partialValue.addingReportingOverflow(b.partialValue)
            return total.overflow ? nil : total.partialValue
        }
    }

    /// The most memory `deriveKey` lets scrypt use (2 GiB). Enough for N = 2^20, r = 8
    /// (just over 1 GiB), and a bound on what a tampered key file can make the agent allocate.
    public static let maximumMemoryByteCount: UInt64 = 2 << 30

    /// Derives `byteCount` bytes from `password` and `salt` (either may be empty).
    ///
    /// Throws `invalidParameter` if `n` is not a power of two greater than 1, `r` or `p` is 0,
    /// r·p ≥ 2^30 (RFC 7914), the memory needed exceeds `maximumMemoryByteCount`, or
    /// `byteCount` is not positive.
    public static func deriveKey(
        password: [UInt8], salt: [UInt8], parameters: Parameters, byteCount: Int
    ) throws -> SymmetricKey {
        try validate(parameters)
        guard byteCount > 0, byteCount <= Int(Int32.max) else {
            throw CryptoError.invalidParameter("scrypt output length \(byteCount) out of range")
        }
        guard let context = EVP_KDF_CTX_new(try Algorithms.scrypt.get()) else {
            throw CryptoError.library("EVP_KDF_CTX_new(SCRYPT)")
        }
        defer { EVP_KDF_CTX_free(context) }

        // Names are OSSL_KDF_PARAM_PASSWORD, _SALT, _SCRYPT_N, _R, _P and _MAXMEM from
        // core_names.h. Password and salt are always set, even when empty: SCRYPT refuses to
        // derive without them.
        let list = ParameterList()
        list.addOctets("pass", password)
        list.addOctets("salt", salt)
        list.addUInt64("n", parameters.n)
        list.addUInt32("r", parameters.r)
        list.addUInt32("p", parameters.p)
        list.addUInt64("maxmem_bytes", maximumMemoryByteCount)

        return try KDFOutput.derive(byteCount: byteCount, name: "EVP_KDF_derive(SCRYPT)") { output in
            list.withParameters { params in
                EVP_KDF_derive(context, output.baseAddress, output.count, params)
            }
        }
    }

    private static func validate(_ parameters: Parameters) throws {
        let n = parameters.n
        guard n > 1, n & (n - 1) == 0 else {
            throw CryptoError.invalidParameter("scrypt N = \(n) is not a power of two greater than 1")
        }
        guard parameters.r > 0, parameters.p > 0 else {
            throw CryptoError.invalidParameter("scrypt r and p must be positive (r = \(parameters.r), p = \(parameters.p))")
        }
        guard UInt64(parameters.r) * UInt64(parameters.p) < (1 << 30) else {
            throw CryptoError.invalidParameter("scrypt r·p must be below 2^30")
        }
        guard let memory = parameters.memoryByteCount, memory <= maximumMemoryByteCount else {
            throw CryptoError.invalidParameter(
                "scrypt N = \(n), r = \(parameters.r), p = \(parameters.p) needs more than \(maximumMemoryByteCount) bytes")
        }
    }
}
