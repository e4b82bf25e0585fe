import LifeboatCrypto

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
        let headerLength = Int(tail[end]) | Int(tail[end + 1]) << 8 | Int(tail[end + 2]) << 16
            | Int(tail[end + 3]) << 24
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

/// Accumulates sealed blobs into one pack in memory until it reaches the target size.
struct PackBuilder {
    private(set) var bytes: [UInt8] = []
    private(set) var entries: [PackFormat.Entry] = []

    init(capacity: Int = 0) {
        // Room for one more maximal blob past the target, so the pack never reallocates.
        bytes.reserveCapacity(capacity + (8 << 20) + (64 << 10))
    }

    var isEmpty: Bool { entries.isEmpty }
    var size: Int { bytes.count }

    mutating func append(type: BlobType, id: BlobID, sealed: [UInt8], rawLength: Int, compressed: Bool) {
        entries.append(
            PackFormat.Entry(
                type: type, id: id, offset: UInt64(bytes.count), length: UInt32(sealed.count),
                rawLength: UInt32(rawLength), compressed: compressed))
        bytes.append(contentsOf: sealed)
    }

    /// Seals the header, appends it and its length, and returns the pack's ID and bytes.
    consuming func finish(key: SymmetricKey) throws -> (id: ObjectID, bytes: [UInt8], entries: [PackFormat.Entry]) {
        let header = try AESGCM.seal(
            PackFormat.encodeHeader(entries), key: key, associatedData: PackFormat.headerAssociatedData)
        bytes.append(contentsOf: header)
        var length = BinaryWriter()
        length.append(littleEndian: UInt32(header.count))
        bytes.append(contentsOf: length.bytes)
        return (ObjectID(digest: SHA256.hash(bytes)), bytes, entries)
    }
}
