internal import CSQLite

/// SQLITE_TRANSIENT tells sqlite3_bind_text/_blob to copy the bytes before returning, so Swift
/// buffers need to live only for the call. It is the macro `((sqlite3_destructor_type)-1)`,
/// which Swift cannot import: the same bit pattern is built here. Computed, not stored, because
/// a global C function pointer constant is not Sendable.
private var sqliteTransient: sqlite3_destructor_type {
    unsafeBitCast(-1 as Int, to: sqlite3_destructor_type.self)
}

extension SQLiteValue {
    /// Binds this value to parameter `index` (1-based) of `statement` (sqlite3_bind_*).
    ///
    /// Empty text and empty blobs are bound with a non-nil pointer or as a zero-length blob
    /// (sqlite3_bind_zeroblob): sqlite3_bind_text/_blob with a nil pointer would bind NULL.
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch self {
        case .null:
            return sqlite3_bind_null(statement, index)
        case .integer(let value):
            return sqlite3_bind_int64(statement, index, value)
        case .real(let value):
            return sqlite3_bind_double(statement, index, value)
        case .text(let value):
            var value = value
            return value.withUTF8 { utf8 in
                utf8.withMemoryRebound(to: CChar.self) { chars in
                    guard let base = chars.baseAddress, !chars.isEmpty else {
                        return "".withCString { empty in
                            sqlite3_bind_text64(statement, index, empty, 0, sqliteTransient, UInt8(SQLITE_UTF8))
                        }
                    }
                    return sqlite3_bind_text64(
                        statement, index, base, UInt64(chars.count), sqliteTransient, UInt8(SQLITE_UTF8))
                }
            }
        case .blob(let value):
            guard !value.isEmpty else { return sqlite3_bind_zeroblob(statement, index, 0) }
            return value.withUnsafeBytes { bytes in
                sqlite3_bind_blob64(statement, index, bytes.baseAddress, UInt64(bytes.count), sqliteTransient)
            }
        }
    }

    /// Reads column `index` (0-based) of the current row (sqlite3_column_type, then the
    /// matching sqlite3_column_* and sqlite3_column_bytes for text and blobs).
    init(column index: Int32, of statement: OpaquePointer) {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER:
            self = .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT:
            self = .real(sqlite3_column_double(statement, index))
        case SQLITE3_TEXT:
            // Text first, then its length in bytes: the order SQLite documents as safe.
            let text = sqlite3_column_text(statement, index)
            let count = Int(sqlite3_column_bytes(statement, index))
            guard let text, count > 0 else {
                self = .text("")
                return
            }
            self = .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let bytes = sqlite3_column_blob(statement, index)
            let count = Int(sqlite3_column_bytes(statement, index))
            guard let bytes, count > 0 else {
                self = .blob([])
                return
            }
            self = .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            self = .null
        }
    }
}

/// The number of result columns of `statement` (sqlite3_column_count).
func sqlite3ColumnCount(_ statement: OpaquePointer) -> Int32 {
    sqlite3_column_count(statement)
}
