/// One SQLite value, as bound to a statement parameter or read from a result column.
///
/// The cases follow SQLite's storage classes; text is UTF-8 and may contain NUL characters.
public enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLiteValue {
    /// The integer, if this is `.integer`.
    public var int64: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The bytes, if this is `.blob`.
    public var blob: [UInt8]? {
        if case .blob(let value) = self { return value }
        return nil
    }

    /// The string, if this is `.text`.
    public var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// The number, if this is `.real`.
    public var real: Double? {
        if case .real(let value) = self { return value }
        return nil
    }

    /// True for `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
