internal import CSQLite

/// One sqlite3 connection and its prepared-statement cache. Not thread-safe: `SQLiteDatabase`
/// serialises every use.
///
/// deinit finalizes the cached statements (sqlite3_finalize) and closes the connection
/// (sqlite3_close_v2).
final class Connection {
    let handle: OpaquePointer
    /// For messages: the file name, or ":memory:".
    let name: String
    /// Nesting depth of `SQLiteDatabase.transaction`: 0 outside, 1 in BEGIN, >1 in savepoints.
    var transactionDepth = 0

    private var statements: [String: OpaquePointer] = [:]
    /// Bound on cached statements, so callers that build SQL text dynamically do not grow the
    /// cache without limit.
    private static let statementCacheLimit = 64

    /// Opens or creates the database (sqlite3_open_v2). NOMUTEX: SQLiteDatabase already
    /// serialises access, so SQLite's own per-connection mutex would only cost time.
    init(path: String, name: String) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let detail = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(status))
            // sqlite3_open_v2 returns a handle even on most failures; it must still be closed.
            if let handle { sqlite3_close_v2(handle) }
            throw SQLiteError(code: status, message: "cannot open database \(name): \(detail)")
        }
        self.handle = handle
        self.name = name
    }

    deinit {
        for statement in statements.values {
            sqlite3_finalize(statement)
        }
        sqlite3_close_v2(handle)
    }

    /// An error for the last failed call on this connection (sqlite3_extended_errcode and
    /// sqlite3_errmsg), naming `sql` and the database.
    func error(_ status: Int32, sql: String) -> SQLiteError {
        let code = sqlite3_extended_errcode(handle)
        let detail = String(cString: sqlite3_errmsg(handle))
        return SQLiteError(
            code: code != SQLITE_OK ? code : status,
            message: "\(detail) (in `\(sql)` on database \(name))")
    }

    /// Runs one or more statements without parameters or results (sqlite3_exec).
    func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard status == SQLITE_OK else {
            let code = sqlite3_extended_errcode(handle)
            let detail = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(status))
            throw SQLiteError(
                code: code != SQLITE_OK ? code : status,
                message: "\(detail) (in `\(sql)` on database \(name))")
        }
    }

    /// Runs one statement with `parameters`, calling `row` for each result row; the statement
    /// is prepared once per SQL text and then reused (sqlite3_prepare_v3 with
    /// SQLITE_PREPARE_PERSISTENT, then sqlite3_reset and sqlite3_clear_bindings after each use).
    func run(_ sql: String, _ parameters: [SQLiteValue], row: (OpaquePointer) -> Void) throws {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard expected == parameters.count else {
            throw SQLiteError(
                code: SQLITE_RANGE,
                message: "statement takes \(expected) parameters, \(parameters.count) given (in `\(sql)` on database \(name))")
        }
        for (offset, value) in parameters.enumerated() {
            let status = value.bind(to: statement, at: Int32(offset + 1))
            guard status == SQLITE_OK else { throw error(status, sql: sql) }
        }
        while true {
            let status = sqlite3_step(statement)
            switch status {
            case SQLITE_ROW:
                row(statement)
            case SQLITE_DONE:
                return
            default:
                throw error(status, sql: sql)
            }
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let cached = statements[sql] { return cached }
        var statement: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let status = sql.withCString { text in
            let status = sqlite3_prepare_v3(handle, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
            // Anything but whitespace after the first statement would be silently ignored.
            if status == SQLITE_OK, let tail, !String(cString: tail).allSatisfy(\.isWhitespace) {
                return SQLITE_MISUSE
            }
            return status
        }
        if status == SQLITE_MISUSE {
            sqlite3_finalize(statement)
            throw SQLiteError(
                code: SQLITE_MISUSE,
                message: "more than one statement; use execute(_:) (in `\(sql)` on database \(name))")
        }
        guard status == SQLITE_OK, let statement else {
            sqlite3_finalize(statement)
            throw error(status, sql: sql)
        }
        if statements.count >= Self.statementCacheLimit, let victim = statements.first {
            sqlite3_finalize(victim.value)
            statements[victim.key] = nil
        }
        statements[sql] = statement
        return statement
    }

    /// True while a transaction is open on the connection (sqlite3_get_autocommit == 0).
    var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }
}
