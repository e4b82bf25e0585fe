internal import COpenSSL

/// An OSSL_PARAM array (OSSL_PARAM_construct_*) whose names and values are copied into memory
/// owned by this object, so every pointer in the array stays valid while it is in use.
///
/// Values may be keys, salts or passwords, so the memory is wiped with OPENSSL_cleanse before it
/// is freed. Used on one thread at a time (not Sendable).
final class ParameterList {
    private var parameters: [OSSL_PARAM] = []
    private var allocations: [UnsafeMutableRawBufferPointer] = []

    init() {}

    deinit {
        for allocation in allocations {
            if let base = allocation.baseAddress {
                OPENSSL_cleanse(base, allocation.count)
            }
            allocation.deallocate()
        }
    }

    /// Copies `bytes` plus a trailing NUL into owned memory (never a nil pointer, even when
    /// `bytes` is empty, because some providers treat a nil pointer as "parameter absent").
    private func copy(_ bytes: UnsafeRawBufferPointer) -> UnsafeMutableRawPointer {
        let allocation = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count + 1, alignment: 8)
        allocation.initializeMemory(as: UInt8.self, repeating: 0)
        if !bytes.isEmpty {
            UnsafeMutableRawBufferPointer(rebasing: allocation[0..<bytes.count]).copyMemory(from: bytes)
        }
        allocations.append(allocation)
        // A freshly allocated buffer of at least one byte always has a base address.
        guard let base = allocation.baseAddress else { preconditionFailure("allocation without address") }
        return base
    }

    private func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
        var string = string
        return string.withUTF8 { utf8 in
            copy(UnsafeRawBufferPointer(utf8)).assumingMemoryBound(to: CChar.self)
        }
    }

    func addUTF8(_ name: String, _ value: String) {
        let key = cString(name)
        let valuePointer = cString(value)
        parameters.append(OSSL_PARAM_construct_utf8_string(key, valuePointer, 0))
    }

    func addOctets(_ name: String, _ value: UnsafeRawBufferPointer) {
        let key = cString(name)
        let valuePointer = copy(value)
        parameters.append(OSSL_PARAM_construct_octet_string(key, valuePointer, value.count))
    }

    func addOctets(_ name: String, _ value: [UInt8]) {
        value.withUnsafeBytes { addOctets(name, $0) }
    }

    func addUInt64(_ name: String, _ value: UInt64) {
        let key = cString(name)
        let storage = withUnsafeBytes(of: value) { copy($0) }.assumingMemoryBound(to: UInt64.self)
        parameters.append(OSSL_PARAM_construct_uint64(key, storage))
    }

    func addUInt32(_ name: String, _ value: UInt32) {
        let key = cString(name)
        let storage = withUnsafeBytes(of: value) { copy($0) }.assumingMemoryBound(to: UInt32.self)
        parameters.append(OSSL_PARAM_construct_uint32(key, storage))
    }

    /// Calls `body` with the array terminated by OSSL_PARAM_construct_end().
    func withParameters<R>(_ body: (UnsafePointer<OSSL_PARAM>) throws -> R) rethrows -> R {
        let terminated = parameters + [OSSL_PARAM_construct_end()]
        return try terminated.withUnsafeBufferPointer { buffer in
            // A non-empty array always has a base address.
            guard let base = buffer.baseAddress else { preconditionFailure("empty parameter array") }
            return try body(base)
        }
    }
}
