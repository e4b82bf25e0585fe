internal import COpenSSL

/// AES-256-GCM authenticated encryption, via EVP_CIPHER with the cipher fetched once.
///
/// The sealed format is `nonce (12) || ciphertext || tag (16)`. Each call uses its own
/// EVP_CIPHER_CTX, so the functions may be called from several threads at once.
public enum AESGCM {
    public static let nonceByteCount = 12
    public static let tagByteCount = 16
    /// Bytes a sealed box adds to its plaintext: nonce plus tag.
    public static let overhead = 28
    /// The key length AES-256 takes.
    public static let keyByteCount = 32

    /// EVP_EncryptUpdate/EVP_DecryptUpdate take an `int` length: larger inputs go in pieces.
    private static let pieceByteCount = 1 << 30

    /// Encrypts and authenticates `plaintext` and `associatedData`; returns
    /// `nonce || ciphertext || tag`.
    ///
    /// - Parameter nonce: 12 bytes, or nil for a fresh random nonce (RAND_bytes). Only pass a
    ///   nonce for known-answer tests or if you can prove it is never reused with this key.
    /// - Throws: `invalidParameter` if the key is not 32 bytes or the nonce not 12.
    public static func seal(
        _ plaintext: UnsafeRawBufferPointer, key: SymmetricKey, associatedData: [UInt8],
        nonce: [UInt8]? = nil
    ) throws -> [UInt8] {
        guard key.byteCount == keyByteCount else {
            throw CryptoError.invalidParameter("AES-256-GCM key is \(key.byteCount) bytes, not \(keyByteCount)")
        }
        if let nonce, nonce.count != nonceByteCount {
            throw CryptoError.invalidParameter("AES-GCM nonce is \(nonce.count) bytes, not \(nonceByteCount)")
        }
        let cipher = try Algorithms.aes256GCM.get()
        let total = nonceByteCount + plaintext.count + tagByteCount

        return try [UInt8](unsafeUninitializedCapacity: total) { output, initialized in
            guard let outBase = output.baseAddress else { throw CryptoError.library("allocation") }
            let nonceOut = UnsafeMutableRawBufferPointer(start: outBase, count: nonceByteCount)
            if let nonce {
                nonceOut.copyBytes(from: nonce)
            } else {
                try SecureRandom.fill(nonceOut)
            }
            let context = try CipherContext()
            try key.withUnsafeBytes { keyBytes in
                guard EVP_EncryptInit_ex2(
                    context.pointer, cipher, keyBytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                    outBase, nil) == 1
                else { throw CryptoError.library("EVP_EncryptInit_ex2(AES-256-GCM)") }
            }
            try context.addAssociatedData(associatedData, encrypting: true)
            let cipherOut = outBase + nonceByteCount
            try context.update(plaintext, into: cipherOut, encrypting: true)

            var finalLength: Int32 = 0
            guard EVP_EncryptFinal_ex(context.pointer, cipherOut + plaintext.count, &finalLength) == 1,
                  finalLength == 0
            else { throw CryptoError.library("EVP_EncryptFinal_ex(AES-256-GCM)") }
            guard EVP_CIPHER_CTX_ctrl(
                context.pointer, EVP_CTRL_GCM_GET_TAG, Int32(tagByteCount),
                cipherOut + plaintext.count) == 1
            else { throw CryptoError.library("EVP_CTRL_GCM_GET_TAG") }
            initialized = total
        }
    }

    /// Encrypts and authenticates `plaintext`; see the pointer variant.
    public static func seal(
        _ plaintext: [UInt8], key: SymmetricKey, associatedData: [UInt8], nonce: [UInt8]? = nil
    ) throws -> [UInt8] {
        try plaintext.withUnsafeBytes {
            try seal($0, key: key, associatedData: associatedData, nonce: nonce)
        }
    }

    /// Verifies and decrypts `nonce || ciphertext || tag`.
    ///
    /// Throws `authenticationFailure` if the input is shorter than `overhead` or anything (bytes,
    /// key, associated data) does not match; the partly decrypted bytes are then wiped and never
    /// returned. Throws `invalidParameter` if the key is not 32 bytes.
    public static func open(
        _ sealed: UnsafeRawBufferPointer, key: SymmetricKey, associatedData: [UInt8]
    ) throws -> [UInt8] {
        guard key.byteCount == keyByteCount else {
            throw CryptoError.invalidParameter("AES-256-GCM key is \(key.byteCount) bytes, not \(keyByteCount)")
        }
        guard sealed.count >= overhead, let sealedBase = sealed.baseAddress else {
            throw CryptoError.authenticationFailure(
                "sealed box of \(sealed.count) bytes is shorter than the \(overhead)-byte overhead")
        }
        let cipher = try Algorithms.aes256GCM.get()
        let plaintextCount = sealed.count - overhead
        let ciphertext = UnsafeRawBufferPointer(start: sealedBase + nonceByteCount, count: plaintextCount)
        // EVP_CTRL_GCM_SET_TAG takes a non-const pointer but only reads from it: copy the tag.
        var tag = [UInt8](UnsafeRawBufferPointer(start: sealedBase + nonceByteCount + plaintextCount, count: tagByteCount))

        // Decrypt into a buffer of our own so that nothing is visible to the caller until the
        // tag has been checked.
        return try [UInt8](unsafeUninitializedCapacity: plaintextCount) { output, initialized in
            var succeeded = false
            defer {
                if !succeeded, let base = output.baseAddress, plaintextCount > 0 {
                    OPENSSL_cleanse(base, plaintextCount)
                }
            }
            let context = try CipherContext()
            try key.withUnsafeBytes { keyBytes in
                guard EVP_DecryptInit_ex2(
                    context.pointer, cipher, keyBytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                    sealedBase.assumingMemoryBound(to: UInt8.self), nil) == 1
                else { throw CryptoError.library("EVP_DecryptInit_ex2(AES-256-GCM)") }
            }
            try context.addAssociatedData(associatedData, encrypting: false)
            if let outBase = output.baseAddress, plaintextCount > 0 {
                try context.update(ciphertext, into: outBase, encrypting: false)
            }
            let tagSet = tag.withUnsafeMutableBytes { tagBytes in
                EVP_CIPHER_CTX_ctrl(context.pointer, EVP_CTRL_GCM_SET_TAG, Int32(tagByteCount), tagBytes.baseAddress)
            }
            guard tagSet == 1 else { throw CryptoError.library("EVP_CTRL_GCM_SET_TAG") }

            var finalLength: Int32 = 0
            // GCM produces no bytes at finalisation; the buffer only satisfies the signature.
            var scratch = [UInt8](repeating: 0, count: 16)
            let verified = scratch.withUnsafeMutableBufferPointer { buf in
                EVP_DecryptFinal_ex(context.pointer, buf.baseAddress, &finalLength)
            }
            guard verified == 1 else {
                throw CryptoError.authenticationFailure("AES-GCM tag mismatch (damaged data, wrong key or wrong associated data)")
            }
            succeeded = true
            initialized = plaintextCount
        }
    }

    /// Verifies and decrypts `nonce || ciphertext || tag`; see the pointer variant.
    public static func open(_ sealed: [UInt8], key: SymmetricKey, associatedData: [UInt8]) throws -> [UInt8] {
        try sealed.withUnsafeBytes { try open($0, key: key, associatedData: associatedData) }
    }

    /// An EVP_CIPHER_CTX owned for the duration of one seal or open, freed (and wiped: the
    /// context holds the key schedule) by EVP_CIPHER_CTX_free in deinit.
    private final class CipherContext {
        let pointer: OpaquePointer

        init() throws {
            guard let pointer = EVP_CIPHER_CTX_new() else { throw CryptoError.library("EVP_CIPHER_CTX_new") }
            self.pointer = pointer
        }

        deinit { EVP_CIPHER_CTX_free(pointer) }

        /// Feeds associated data: an update with a nil output buffer (EVP_CipherUpdate).
        func addAssociatedData(_ data: [UInt8], encrypting: Bool) throws {
            guard !data.isEmpty else { return }
            try data.withUnsafeBytes { bytes in
                try update(bytes, into: nil, encrypting: encrypting)
            }
        }

        /// Encrypts or decrypts `input` into `output` in pieces that fit an `int`; GCM is a
        /// stream mode, so each piece produces exactly as many bytes as it consumes.
        func update(_ input: UnsafeRawBufferPointer, into output: UnsafeMutablePointer<UInt8>?, encrypting: Bool) throws {
            guard let inBase = input.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
            var offset = 0
            while offset < input.count {
                let piece = min(input.count - offset, AESGCM.pieceByteCount)
                var written: Int32 = 0
                let out = output.map { $0 + offset }
                let ok = encrypting
                    ? EVP_EncryptUpdate(pointer, out, &written, inBase + offset, Int32(piece))
                    : EVP_DecryptUpdate(pointer, out, &written, inBase + offset, Int32(piece))
                guard ok == 1, output == nil || Int(written) == piece else {
                    throw CryptoError.library(encrypting ? "EVP_EncryptUpdate" : "EVP_DecryptUpdate")
                }
                offset += piece
            }
        }
    }
}
