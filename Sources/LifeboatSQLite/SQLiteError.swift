/// A failed SQLite call: the (extended) result code and a message naming the SQL and the
/// database file, so a log line says which database and statement went wrong.
public struct SQLiteError: Error, CustomStringConvertible {
    /// The extended result code (sqlite3_extended_errcode), e.g. 2067 for
    /// SQLITE_CONSTRAINT_UNIQUE; `primaryCode` gives the primary code (19, SQLITE_CONSTRAINT).
    public let code: Int32
    public let message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    /// The primary result code: the low 8 bits of `code` (SQLITE_BUSY = 5, SQLITE_CORRUPT = 11,
    /// SQLITE_CONSTRAINT = 19, SQLITE_NOTADB = 26, ...).
    public var primaryCode: Int32 { code & 0xff }

    public var description: String { "SQLite error \(code): \(message)" }
}
