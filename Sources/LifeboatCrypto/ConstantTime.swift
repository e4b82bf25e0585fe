internal import COpenSSL

/// Compares two byte arrays in time independent of where they differ (CRYPTO_memcmp), for
/// checking MACs and IDs an attacker may probe. Returns false on a length mismatch (the lengths
/// themselves are not secret).
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    if a.isEmpty { return true }
    return a.withUnsafeBytes { pa in
        b.withUnsafeBytes { pb in
            guard let x = pa.baseAddress, let y = pb.baseAddress else { return false }
            return CRYPTO_memcmp(x, y, pa.count) == 0
        }
    }
}
