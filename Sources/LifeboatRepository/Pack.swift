import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LifeboatCrypto
import LifeboatSystem

/// Where a blob lives: one entry of a pack header and of the index.
public struct BlobLocation: Hashable, Sendable {
    public var type: BlobType
    public var id: BlobID
    public var pack: ObjectID
    /// Byte offset of the sealed blob in the pack.
    public var offset: UInt64
    /// Stored (sealed) length: nonce + ciphertext + tag.
    public var length: UInt32
    /// Length of the plaintext before compression.
    public var rawLength: UInt32
    public var compressed: Bool
}

extension BlobLocation {
    /// Where a pack header's entry puts its blob.
    init(_ entry: PackFormat.Entry, in pack: ObjectID) {
        self.init(
            type: entry.type, id: entry.id, pack: pack, offset: entry.offset, length: entry.length,
            rawLength: entry.rawLength, compressed: entry.compressed)
    }
}

/// Pack format v1:
///
/// ```
/// pack   := sealedBlob* sealedHeader headerLength:u32le
/// header := "LBP1" varint(count) entry*
/// entry  := type:u8 id:32 offset:varint length:varint rawLength:varint compressed:u8
/// ```
/// Each blob is sealed with AES-256-GCM under the associated data `"lifeboat.blob.v1" type id`,
/// the header under `"lifeboat.pack.v1"`. The pack ID is the SHA-256 of the whole pack, so damage
/// is detectable without keys.
enum PackFormat {
    static let headerMagic: [UInt8] = Array("LBP1".utf8)
    static let headerAssociatedData: [UInt8] = Array("lifeboat.pack.v1".utf8)

    static func blobAssociatedData(_ type: BlobType, _ id: BlobID) -> [UInt8] {
        Array("lifeboat.blob.v1".utf8) + [type.rawValue] + id.bytes
    }

    struct Entry: Hashable {
        var type: BlobType
        var id: BlobID
        var offset: UInt64
        var length: UInt32
        var rawLength: UInt32
        var compressed: Bool
    }

    static func encodeHeader(_ entries: [Entry]) -> [UInt8] {
        var w = BinaryWriter()
        w.append(raw: headerMagic)
        w.append(varint: UInt64(entries.count))
        for entry in entries {
            w.append(entry.type.rawValue)
            w.append(raw: entry.id.bytes)
            w.append(varint: entry.offset)
            w.append(varint: entry.length)
            w.append(varint: entry.rawLength)
            w.append(entry.compressed ? 1 : 0)
        }
        return w.bytes
    }

    static func decodeHeader(_ bytes: [UInt8], context: String) throws -> [Entry] {
        var r = BinaryReader(bytes, context: context)
        guard try r.raw(4) == headerMagic else { throw FormatError("\(context): not a pack header") }
        let count = try r.varint()
        guard count <= UInt64(r.remaining / 36) else { throw FormatError("\(context): bad entry count") }
        var entries: [Entry] = []
        for _ in 0..<count {
            guard let type = BlobType(rawValue: try r.byte()) else { throw FormatError("\(context): unknown blob type") }
            let id = try r.objectID()
            let entry = Entry(
                type: type, id: id, offset: try r.varint(), length: try r.varint(as: UInt32.self),
                rawLength: try r.varint(as: UInt32.self), compressed: try r.byte() == 1)
            entries.append(entry)
        }
        guard r.isAtEnd else { throw FormatError("\(context): trailing bytes in header") }
        return entries
    }

    /// Reads the header of a stored pack from its last bytes (`tail`, at least the header and
    /// its length; the whole pack will do) and the pack's total size.
    static func parseTrailer(_ tail: [UInt8], packSize: Int, key: SymmetricKey, context: String) throws -> [Entry] {
        guard tail.count >= 4 + AESGCM.overhead, packSize >= tail.count else {
            throw FormatError("\(context): too short to be a pack")
        }
        let end = tail.count - 4
        let headerLength = trailerLength(lastFourBytes: Array(tail[end...])) - 4
        guard headerLength >= AESGCM.overhead, headerLength <= end else {
            throw FormatError("\(context): bad header length \(headerLength)")
        }
        let sealed = Array(tail[(end - headerLength)..<end])
        let plain: [UInt8]
        do {
            plain = try AESGCM.open(sealed, key: key, associatedData: headerAssociatedData)
        } catch {
            throw FormatError("\(context): pack header fails authentication (damaged or foreign)")
        }
        let entries = try decodeHeader(plain, context: context)
        let dataEnd = UInt64(packSize - 4 - headerLength)
        for entry in entries where entry.offset + UInt64(entry.length) > dataEnd {
            throw FormatError("\(context): header entry \(entry.id.shortHex) points past the data")
        }
        return entries
    }

    /// The number of bytes at the end of a pack that hold its header and length.
    static func trailerLength(lastFourBytes b: [UInt8]) -> Int {
        4 + (Int(b[0]) | Int(b[1]) << 8 | Int(b[2]) << 16 | Int(b[3]) << 24)
    }
}

/// A pack being assembled in a spool file rather than in memory, so a backup holds no pack
/// bytes in RAM whatever the pack size. For a local repository the spool lives in the
/// repository's `data/` directory and the finished pack is renamed into place.
///
/// Not thread-safe: the repository appends under its writer lock and finishes on the upload
/// thread, after the pack has left the writer state.
final class SpooledPack: @unchecked Sendable {
    let path: String
    private let file: FileDescriptor
    private(set) var size = 0
    private(set) var entries: [PackFormat.Entry] = []
    /// How far writeback was last started: the disk writes the pack while it fills, so the
    /// fsync in `finish` (on the path of a backup's end) finds little left to do.
    private var writebackStartedAt = 0
    private static let writebackStep = 2 << 20

    /// Spool files are named `.spool-<pid>-<random>`: listings skip dot files, and a spool file
    /// whose process is gone can be swept.
    static let prefix = ".spool-"

    init(directory: String) throws {
        path = directory + "/" + SpooledPack.prefix + "\(getpid())-" + String(decoding: temporaryName().dropFirst(4), as: UTF8.self)
        file = try FileDescriptor.open(path, flags: [.readWrite, .create, .exclusive, .noFollow], mode: 0o600)
    }

    var isEmpty: Bool { entries.isEmpty }

    func append(type: BlobType, id: BlobID, sealed: [UInt8], rawLength: Int, compressed: Bool) throws {
        try namingSpool { try sealed.withUnsafeBytes { try file.writeAll($0, at: UInt64(size)) } }
        entries.append(
            PackFormat.Entry(
                type: type, id: id, offset: UInt64(size), length: UInt32(sealed.count),
                rawLength: UInt32(rawLength), compressed: compressed))
        size += sealed.count
        if size - writebackStartedAt >= Self.writebackStep {
            // Only a hint to the kernel; `finish` syncs in any case.
            try? file.startWriteback()
            writebackStartedAt = size
        }
    }

    /// Appends the sealed header and its length, makes the file durable, and returns the pack's
    /// ID (the SHA-256 of the file, read back in pieces) and size.
    func finish(key: SymmetricKey) throws -> (id: ObjectID, size: Int) {
        let header = try AESGCM.seal(
            PackFormat.encodeHeader(entries), key: key, associatedData: PackFormat.headerAssociatedData)
        var tail = BinaryWriter()
        tail.append(raw: header)
        tail.append(littleEndian: UInt32(header.count))
        try namingSpool {
            try tail.bytes.withUnsafeBytes { try file.writeAll($0, at: UInt64(size)) }
            try file.sync()
        }
        size += tail.bytes.count
        let hasher = SHA256Hasher()
        let piece = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { piece.deallocate() }
        var offset = 0
        while offset < size {
            let count = try file.readFully(
                into: UnsafeMutableRawBufferPointer(rebasing: piece[0..<min(piece.count, size - offset)]),
                at: UInt64(offset))
            guard count > 0 else { throw FormatError("spool file \(path) shrank while being written") }
            hasher.update(UnsafeRawBufferPointer(rebasing: piece[0..<count]))
            offset += count
        }
        return (ObjectID(digest: hasher.finalize()), size)
    }

    func discard() { _ = Glibc.unlink(path) }

    /// Errors of calls on the spool file name it, so a full disk says which file system.
    private func namingSpool(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch var error as SystemError where error.path.isEmpty {
            error.path = Array(path.utf8)
            throw error
        }
    }
}
