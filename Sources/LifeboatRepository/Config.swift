import Foundation

/// The plaintext `config` object: everything needed to read the repository except secrets.
public struct RepositoryConfig: Codable, Sendable, Equatable {
    /// The version new repositories get. Version 2 may store sealed JSON objects (index files,
    /// snapshots, locks) as zstd frames; version 1 stores them as JSON text, and is still read
    /// and written (in its own form, so older releases keep reading it).
    public static let currentVersion = 2
    public static let readableVersions = 1...2

    public var version: Int
    /// 32 random bytes, hex; salts the subkey derivation, names the local cache.
    public var id: String
    public var chunkerMinimum: Int
    public var chunkerAverage: Int
    public var chunkerMaximum: Int
    /// Target pack size in bytes.
    public var packSize: Int
    /// Fixed block size for image backups.
    public var imageBlockSize: Int
    public var compression: String

    public init(id: String, packSize: Int = 16 << 20) {
        self.version = RepositoryConfig.currentVersion
        self.id = id
        self.chunkerMinimum = Chunker.Parameters.files.minimum
        self.chunkerAverage = Chunker.Parameters.files.average
        self.chunkerMaximum = Chunker.Parameters.files.maximum
        self.packSize = packSize
        self.imageBlockSize = 4 << 20
        self.compression = "zstd"
    }

    enum CodingKeys: String, CodingKey {
        case version, id, packSize, imageBlockSize, compression
        case chunkerMinimum = "chunkerMin"
        case chunkerAverage = "chunkerAvg"
        case chunkerMaximum = "chunkerMax"
    }
}

/// JSON with sorted keys and no escaping of slashes: the deterministic encoding used for every
/// JSON object in the repository.
enum CanonicalJSON {
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dataEncodingStrategy = .base64
        return Array(try encoder.encode(value))
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], context: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw FormatError("\(context) does not decode: \(describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context):
            return "damaged or truncated JSON (\(context.debugDescription))"
        case DecodingError.keyNotFound(let key, _):
            return "missing field \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default:
            return "\(error)"
        }
    }
}

/// RFC 3339 UTC time with nanoseconds, for snapshots and locks (deterministic text).
public enum TimeText {
    public static func format(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = seconds.rounded(.down)
        let nanos = Int(((seconds - whole) * 1e9).rounded())
        let tm = civil(Int(whole))
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", tm.year, tm.month, tm.day, tm.hour,
            tm.minute, tm.second, min(nanos, 999_999_999))
    }

    private struct Civil { var year, month, day, hour, minute, second: Int }

    private static func civil(_ epochSeconds: Int) -> Civil {
        // Howard Hinnant's days-from-civil inverse: avoids gmtime's non-Sendable static buffer.
        let days = Int((Double(epochSeconds) / 86400).rounded(.down))
        let secondsOfDay = epochSeconds - days * 86400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return Civil(
            year: year, month: month, day: day, hour: secondsOfDay / 3600,
            minute: secondsOfDay % 3600 / 60, second: secondsOfDay % 60)
    }

    public static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        // ISO8601DateFormatter keeps milliseconds only; the nanoseconds are re-added by hand.
        let parts = text.split(separator: ".")
        guard parts.count == 2, let base = ISO8601DateFormatter().date(from: parts[0] + "Z") else {
            return ISO8601DateFormatter().date(from: text)
        }
        let fraction = parts[1].prefix { $0.isNumber }
        let nanos = Double("0." + fraction) ?? 0
        return base.addingTimeInterval(nanos)
    }
}
