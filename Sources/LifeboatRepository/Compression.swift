internal import CZstd
import Synchronization

/// Why a blob could not be compressed or decompressed.
public struct CompressionError: Error, Equatable, CustomStringConvertible {
    public enum Code: Sendable {
        /// A level out of range, or an expected size that is negative or above the cap.
        case invalidParameter
        /// The data decompressed (or would decompress) to a size other than the expected one.
        case sizeMismatch
        /// The input is not a valid zstd frame (damaged, truncated, or not zstd at all).
        case corruptInput
        /// zstd could not allocate a context or failed internally.
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
        case .invalidParameter: return "compression: invalid parameter: \(message)"
        case .sizeMismatch: return "compression: size mismatch: \(message)"
        case .corruptInput: return "compression: corrupt input: \(message)"
        case .libraryFailure: return "compression: zstd failure: \(message)"
        }
    }
}

/// zstd compression of whole blobs in one call (ZSTD_compress2 / ZSTD_decompressDCtx), with
/// contexts reused from small pools so that per-chunk calls do not allocate zstd's working
/// memory (about 1-2 MiB per compression context) every time.
///
/// Safe to call from several threads at once: each call takes a context of its own.
public enum Zstd {
    /// The largest `expectedSize` `decompress` accepts (64 MiB, far above the 8 MiB chunk cap),
    /// so that a damaged or forged index entry cannot make us allocate without bound.
    public static let maximumDecompressedSize = 64 << 20

    /// The compression levels zstd accepts (ZSTD_minCLevel ... ZSTD_maxCLevel; 0 means default).
    public static var levels: ClosedRange<Int32> { ZSTD_minCLevel()...ZSTD_maxCLevel() }

    /// Compresses `input` into one zstd frame that records its content size.
    ///
    /// - Parameters:
    ///   - hashLog: overrides the level's ZSTD_c_hashLog (log2 of the entries of its main match
    ///     table); nil keeps zstd's choice for the level and input size.
    ///   - chainLog: overrides ZSTD_c_chainLog (log2 of the entries of the second table).
    public static func compress(
        _ input: UnsafeRawBufferPointer, level: Int32 = 3, hashLog: Int32? = nil, chainLog: Int32? = nil
    ) throws -> [UInt8] {
        guard levels.contains(level) else {
            throw CompressionError(code: .invalidParameter, message: "level \(level) outside \(levels)")
        }
        let bound = ZSTD_compressBound(input.count)
        guard ZSTD_isError(bound) == 0 else {
            throw CompressionError(code: .invalidParameter, message: "input of \(input.count) bytes is too large for zstd")
        }
        let context = try compressionContexts.acquire()
        // Pooled contexts keep parameters between calls: start each call from the defaults.
        ZSTD_CCtx_reset(context.pointer, ZSTD_reset_session_and_parameters)
        try check(ZSTD_CCtx_setParameter(context.pointer, ZSTD_c_compressionLevel, level), "compression level \(level)")
        if let hashLog {
            try check(ZSTD_CCtx_setParameter(context.pointer, ZSTD_c_hashLog, hashLog), "hashLog \(hashLog)")
        }
        if let chainLog {
            try check(ZSTD_CCtx_setParameter(context.pointer, ZSTD_c_chainLog, chainLog), "chainLog \(chainLog)")
        }
        var failure: CompressionError?
        let output = [UInt8](unsafeUninitializedCapacity: bound) { buffer, initialized in
            let written = ZSTD_compress2(context.pointer, buffer.baseAddress, bound, input.baseAddress, input.count)
            if ZSTD_isError(written) != 0 {
                failure = CompressionError(code: .libraryFailure, message: "ZSTD_compress2: \(errorName(written))")
                initialized = 0
            } else {
                initialized = written
            }
        }
        if let failure { throw failure }
        compressionContexts.release(context)
        // Sized for the worst case: callers seal the result at once and let it go, so a copy
        // to a tighter buffer would only cost time.
        return output
    }

    /// Decompresses `input`, which must decode to exactly `expectedSize` bytes.
    ///
    /// Never allocates more than `expectedSize` bytes of output. Throws `invalidParameter` for an
    /// `expectedSize` that is negative or above `maximumDecompressedSize`, `sizeMismatch` if the
    /// frame decodes (or declares it decodes) to another size, and `corruptInput` for anything
    /// zstd rejects.
    public static func decompress(_ input: UnsafeRawBufferPointer, expectedSize: Int) throws -> [UInt8] {
        try decompress(input, expectedSize: expectedSize, limit: maximumDecompressedSize)
    }

    /// Whether `bytes` begin with the zstd frame magic number (28 B5 2F FD).
    public static func isFrame(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x28 && bytes[1] == 0xB5 && bytes[2] == 0x2F && bytes[3] == 0xFD
    }

    /// Decompresses one frame to the content size its header declares, which must be known and
    /// at most `limit` (the allocation is never larger).
    public static func decompressFrame(_ input: [UInt8], limit: Int) throws -> [UInt8] {
        try input.withUnsafeBytes { raw in
            guard let source = raw.baseAddress, !raw.isEmpty else {
                throw CompressionError(code: .corruptInput, message: "empty input is not a zstd frame")
            }
            let declared = ZSTD_getFrameContentSize(source, raw.count)
            // ZSTD_CONTENTSIZE_UNKNOWN and ZSTD_CONTENTSIZE_ERROR are the two largest values.
            guard declared < UInt64.max - 1 else {
                throw CompressionError(code: .corruptInput, message: "zstd frame header without a readable content size")
            }
            guard declared <= UInt64(limit) else {
                throw CompressionError(code: .invalidParameter, message: "frame declares \(declared) bytes, above \(limit)")
            }
            return try decompress(raw, expectedSize: Int(declared), limit: limit)
        }
    }

    private static func decompress(_ input: UnsafeRawBufferPointer, expectedSize: Int, limit: Int) throws -> [UInt8] {
        guard expectedSize >= 0, expectedSize <= limit else {
            throw CompressionError(
                code: .invalidParameter,
                message: "expected size \(expectedSize) outside 0...\(limit)")
        }
        guard let source = input.baseAddress, !input.isEmpty else {
            throw CompressionError(code: .corruptInput, message: "empty input is not a zstd frame")
        }
        // Reject early, before allocating, when a single frame declares another size.
        // ZSTD_CONTENTSIZE_UNKNOWN is (0ULL - 1) and ZSTD_CONTENTSIZE_ERROR is (0ULL - 2): Swift
        // does not import these macros, so they are spelled out here.
        let firstFrame = ZSTD_findFrameCompressedSize(source, input.count)
        guard ZSTD_isError(firstFrame) == 0 else {
            throw CompressionError(code: .corruptInput, message: "no valid zstd frame: \(errorName(firstFrame))")
        }
        if firstFrame == input.count {
            let declared = ZSTD_getFrameContentSize(source, input.count)
            if declared == UInt64.max - 1 {
                throw CompressionError(code: .corruptInput, message: "unreadable zstd frame header")
            }
            if declared != UInt64.max, declared != UInt64(expectedSize) {
                throw CompressionError(
                    code: .sizeMismatch, message: "frame declares \(declared) bytes, expected \(expectedSize)")
            }
        }

        let context = try decompressionContexts.acquire()
        var failure: CompressionError?
        let output = [UInt8](unsafeUninitializedCapacity: expectedSize) { buffer, initialized in
            initialized = 0
            // zstd accepts a nil destination when its capacity is 0 (expectedSize == 0).
            let written = ZSTD_decompressDCtx(context.pointer, buffer.baseAddress, expectedSize, source, input.count)
            if ZSTD_isError(written) != 0 {
                failure = ZSTD_getErrorCode(written) == ZSTD_error_dstSize_tooSmall
                    ? CompressionError(code: .sizeMismatch, message: "data decompresses to more than \(expectedSize) bytes")
                    : CompressionError(code: .corruptInput, message: "ZSTD_decompressDCtx: \(errorName(written))")
            } else if written != expectedSize {
                failure = CompressionError(
                    code: .sizeMismatch, message: "data decompresses to \(written) bytes, expected \(expectedSize)")
            } else {
                initialized = written
            }
        }
        if let failure { throw failure }
        decompressionContexts.release(context)
        return output
    }

    /// Decompresses `input`; see the pointer variant.
    public static func decompress(_ input: [UInt8], expectedSize: Int) throws -> [UInt8] {
        try input.withUnsafeBytes { try decompress($0, expectedSize: expectedSize) }
    }

    /// Compresses `input`; see the pointer variant.
    public static func compress(
        _ input: [UInt8], level: Int32 = 3, hashLog: Int32? = nil, chainLog: Int32? = nil
    ) throws -> [UInt8] {
        try input.withUnsafeBytes { try compress($0, level: level, hashLog: hashLog, chainLog: chainLog) }
    }

    private static func check(_ result: Int, _ what: String) throws {
        if ZSTD_isError(result) != 0 {
            throw CompressionError(code: .invalidParameter, message: "\(what): \(errorName(result))")
        }
    }

    private static func errorName(_ code: Int) -> String {
        guard let name = ZSTD_getErrorName(code) else { return "error \(code)" }
        return String(cString: name)
    }
}

// MARK: - Context pools

/// A ZSTD_CCtx, freed with ZSTD_freeCCtx when dropped.
///
/// `@unchecked Sendable`: a context is used by one thread at a time; the pool's mutex hands it
/// from one owner to the next.
private final class CompressionContext: @unchecked Sendable {
    let pointer: OpaquePointer

    init() throws {
        guard let pointer = ZSTD_createCCtx() else {
            throw CompressionError(code: .libraryFailure, message: "ZSTD_createCCtx failed (out of memory)")
        }
        self.pointer = pointer
    }

    deinit { ZSTD_freeCCtx(pointer) }
}

/// A ZSTD_DCtx, freed with ZSTD_freeDCtx when dropped. Sendable on the same terms as
/// `CompressionContext`.
private final class DecompressionContext: @unchecked Sendable {
    let pointer: OpaquePointer

    init() throws {
        guard let pointer = ZSTD_createDCtx() else {
            throw CompressionError(code: .libraryFailure, message: "ZSTD_createDCtx failed (out of memory)")
        }
        self.pointer = pointer
    }

    deinit { ZSTD_freeDCtx(pointer) }
}

/// Idle contexts behind a Mutex: `acquire` takes one or makes a new one, `release` puts it back
/// unless `capacity` are already idle. A context whose call failed is not released, just
/// dropped, so no pooled context is ever in an unknown state.
private final class ContextPool<Context: AnyObject & Sendable>: Sendable {
    private let idle = Mutex<[Context]>([])
    private let capacity: Int
    private let make: @Sendable () throws -> Context

    init(capacity: Int, make: @escaping @Sendable () throws -> Context) {
        self.capacity = capacity
        self.make = make
    }

    func acquire() throws -> Context {
        if let context = idle.withLock({ $0.popLast() }) { return context }
        return try make()
    }

    func release(_ context: Context) {
        idle.withLock { contexts in
            if contexts.count < capacity { contexts.append(context) }
        }
    }
}

/// Two threads do the CPU work of a backup (DESIGN.md §2: 2 cores); a few spares cover
/// restore and check running beside it.
private let compressionContexts = ContextPool<CompressionContext>(capacity: 4) { try CompressionContext() }
private let decompressionContexts = ContextPool<DecompressionContext>(capacity: 4) { try DecompressionContext() }
