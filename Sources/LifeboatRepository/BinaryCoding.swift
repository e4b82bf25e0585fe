/// Little helpers for the repository's binary encodings (trees, pack headers).
/// Integers are LEB128 varints (signed ones zigzag-encoded), byte strings are length-prefixed.
struct BinaryWriter {
    private(set) var bytes: [UInt8] = []

    mutating func append(_ byte: UInt8) { bytes.append(byte) }

    mutating func append(raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }

    mutating func append(varint value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func append(varint value: some BinaryInteger) { append(varint: UInt64(value)) }

    mutating func append(signed value: Int64) {
        append(varint: UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func append(bytes value: [UInt8]) {
        append(varint: UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func append(littleEndian value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(littleEndian value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Reads what `BinaryWriter` wrote; every read checks bounds and throws `FormatError` on
/// truncated or malformed input instead of trapping.
struct BinaryReader {
    private let bytes: [UInt8]
    private(set) var offset: Int
    private let end: Int
    let context: String

    init(_ bytes: [UInt8], context: String) {
        self.bytes = bytes
        self.offset = 0
        self.end = bytes.count
        self.context = context
    }

    var isAtEnd: Bool { offset >= end }
    var remaining: Int { end - offset }

    private func fail(_ what: String) -> FormatError {
        FormatError("\(context): \(what) at byte \(offset)")
    }

    mutating func byte() throws -> UInt8 {
        guard offset < end else { throw fail("unexpected end of data") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func raw(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= remaining else { throw fail("unexpected end of data") }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw fail("varint too long") }
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func varint<T: FixedWidthInteger>(as type: T.Type) throws -> T {
        let value = try varint()
        guard let converted = T(exactly: value) else { throw fail("value \(value) out of range") }
        return converted
    }

    mutating func signed() throws -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func bytesField(limit: Int = 1 << 30) throws -> [UInt8] {
        let count = try varint()
        guard count <= UInt64(limit) else { throw fail("length \(count) too large") }
        return try raw(Int(count))
    }

    mutating func objectID() throws -> ObjectID {
        guard let id = ObjectID(bytes: try raw(32)) else { throw fail("bad object ID") }
        return id
    }

    mutating func littleEndianUInt32() throws -> UInt32 {
        let b = try raw(4)
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }

    mutating func littleEndianUInt64() throws -> UInt64 {
        let b = try raw(8)
        var value: UInt64 = 0
        for (i, byte) in b.enumerated() { value |= UInt64(byte) << (8 * UInt64(i)) }
        return value
    }
}

/// Stored bytes that do not decode: a damaged or foreign object.
public struct FormatError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
