internal import COpenSSL

/// An error from LifeboatCrypto: a coarse code to branch on and a message for people.
///
/// `authenticationFailure` is the only code a caller should expect during normal operation
/// (damaged or forged data, wrong key); `invalidParameter` is a programming or input error
/// caught before OpenSSL is called; `libraryFailure` means OpenSSL itself reported an error,
/// whose queue is drained into `message`.
public struct CryptoError: Error, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: Sendable {
        /// A tag or signature did not verify, or sealed data was too short to hold one.
        case authenticationFailure
        /// A key, nonce, length or parameter was out of range.
        case invalidParameter
        /// OpenSSL reported an error (allocation, missing algorithm, internal failure).
        case libraryFailure
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String {
        switch code {
        case .authenticationFailure: return "authentication failed: \(message)"
        case .invalidParameter: return "invalid parameter: \(message)"
        case .libraryFailure: return "OpenSSL failure: \(message)"
        }
    }
}

extension CryptoError {
    static func invalidParameter(_ message: String) -> CryptoError {
        CryptoError(code: .invalidParameter, message: message)
    }

    /// An authentication failure; clears OpenSSL's thread-local error queue (ERR_clear_error)
    /// so a failed verification leaves nothing behind for the next caller on this thread.
    static func authenticationFailure(_ message: String) -> CryptoError {
        ERR_clear_error()
        return CryptoError(code: .authenticationFailure, message: message)
    }

    /// A library failure for `function`, draining OpenSSL's thread-local error queue
    /// (ERR_get_error / ERR_error_string_n) into the message.
    static func library(_ function: String) -> CryptoError {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            let text = buffer.withUnsafeMutableBufferPointer { buf -> String in
                guard let base = buf.baseAddress else { return "error \(code)" }
                ERR_error_string_n(code, base, buf.count)
                return String(cString: base)
            }
            reasons.append(text)
        }
        let detail = reasons.isEmpty ? "no error queued" : reasons.joined(separator: "; ")
        return CryptoError(code: .libraryFailure, message: "\(function) failed: \(detail)")
    }
}
