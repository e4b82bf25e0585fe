import Synchronization
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A thread-safe SQLite database: one connection whose every use is serialised by a Mutex.
///
/// Used for the repository's local index cache and the daemon's state database. Statements run
/// with parameters are prepared once per SQL text and cached.
///
/// `transaction(_:)` holds the lock while its body runs; calls the body makes on the same
/// thread (`run`, `query`, `execute`, nested `transaction`) are recognised and go straight to
/// the connection instead of taking the lock again. Other threads wait until the transaction
/// ends — so a body must not wait for another thread that uses this database.
///
/// `@unchecked Sendable`: `connection` is only touched while `lock` is held, either inside
/// `lock.withLock` or on the thread recorded in `transactionThread`, which holds it.
public final class SQLiteDatabase: @unchecked Sendable {
    /// The file, or nil for an in-memory database.
    public let path: String?

    private let lock = Mutex<Void>(())
    private let connection: Connection
    /// The thread inside `transaction` (holding `lock`), or 0.
    private let transactionThread = Atomic<UInt>(0)

    /// Opens or creates the database at `path` and sets journal_mode=WAL (readers do not block
    /// the writer), synchronous=NORMAL (durable at checkpoints, safe against corruption in WAL
    /// mode) and busy_timeout=5000 ms (another process holding the lock is waited for).
    ///
    /// Throws an `SQLiteError` naming the file if it cannot be opened or is not a database.
    public init(path: String) throws {
        self.path = path
        connection = try Connection(path: path, name: path)
        try configure()
    }

    private init(inMemoryNamed name: String) throws {
        path = nil
        connection = try Connection(path: name, name: name)
        try configure()
    }

    /// A private, empty database in memory, gone when the object is released.
    public static func inMemory() throws -> SQLiteDatabase {
        try SQLiteDatabase(inMemoryNamed: ":memory:")
    }

    private func configure() throws {
        // PRAGMA busy_timeout sets the same handler as sqlite3_busy_timeout. journal_mode is
        // first because it reads the file header: a file that is not a database fails here.
        try connection.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;")
    }

    /// Runs one or more `;`-separated statements without parameters (sqlite3_exec); result rows
    /// are discarded. For schema set-up and PRAGMAs.
    public func execute(_ sql: String) throws {
        try withConnection { try $0.execute(sql) }
    }

    /// Runs one statement with `parameters` bound to its `?` placeholders in order, discarding
    /// any result rows. The number of parameters must match the statement.
    public func run(_ sql: String, _ parameters: [SQLiteValue] = []) throws {
        try withConnection { try $0.run(sql, parameters) { _ in } }
    }

    /// Runs one statement and returns its rows, each an array of column values.
    public func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
        try withConnection { connection in
            var rows: [[SQLiteValue]] = []
            try connection.run(sql, parameters) { statement in
                let columns = sqlite3ColumnCount(statement)
                rows.append((0..<columns).map { SQLiteValue(column: $0, of: statement) })
            }
            return rows
        }
    }

    /// Runs one statement and hands its rows to `body` one at a time, without collecting them:
    /// for scans of tables too big to hold as arrays.
    public func forEachRow(_ sql: String, _ parameters: [SQLiteValue] = [], _ body: ([SQLiteValue]) -> Void) throws {
        try withConnection { connection in
            try connection.run(sql, parameters) { statement in
                let columns = sqlite3ColumnCount(statement)
                body((0..<columns).map { SQLiteValue(column: $0, of: statement) })
            }
        }
    }

    /// Runs `body` in a transaction: BEGIN IMMEDIATE (takes the write lock up front, so the
    /// transaction cannot fail half-way with SQLITE_BUSY on upgrade), then COMMIT, or ROLLBACK
    /// if `body` or COMMIT throws.
    ///
    /// A transaction started inside another on the same thread becomes a SAVEPOINT, rolled back
    /// on its own if its body throws.
    public func transaction<R>(_ body: () throws -> R) throws -> R {
        if isTransactionThread {
            return try nested(body)
        }
        var result: R?
        try lock.withLock { _ in
            transactionThread.store(Self.currentThread, ordering: .relaxed)
            defer { transactionThread.store(0, ordering: .relaxed) }
            connection.transactionDepth = 1
            defer { connection.transactionDepth = 0 }
            try connection.execute("BEGIN IMMEDIATE")
            do {
                let value = try body()
                try connection.execute("COMMIT")
                result = value
            } catch {
                // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) roll back on their own.
                if connection.inTransaction { try? connection.execute("ROLLBACK") }
                throw error
            }
        }
        guard let result else { preconditionFailure("transaction finished without a result") }
        return result
    }

    /// A nested transaction, as a savepoint; called on the thread that holds the lock.
    private func nested<R>(_ body: () throws -> R) throws -> R {
        let name = "lifeboat_savepoint_\(connection.transactionDepth)"
        try connection.execute("SAVEPOINT \(name)")
        connection.transactionDepth += 1
        defer { connection.transactionDepth -= 1 }
        do {
            let value = try body()
            try connection.execute("RELEASE \(name)")
            return value
        } catch {
            if connection.inTransaction {
                try? connection.execute("ROLLBACK TO \(name)")
                try? connection.execute("RELEASE \(name)")
            }
            throw error
        }
    }

    // MARK: - Locking

    private var isTransactionThread: Bool {
        transactionThread.load(ordering: .relaxed) == Self.currentThread
    }

    /// Runs `body` with the connection: directly on the thread inside `transaction` (which
    /// already holds the lock), otherwise under the lock.
    private func withConnection<R>(_ body: (Connection) throws -> R) throws -> R {
        if isTransactionThread {
            return try body(connection)
        }
        var result: Result<R, any Error>?
        lock.withLock { _ in
            result = Result { try body(connection) }
        }
        guard let result else { preconditionFailure("lock body did not run") }
        return try result.get()
    }

    /// An identifier for the calling thread (pthread_self). Only ever compared with the value a
    /// thread stored itself, so reuse of ids by later threads does not matter.
    private static var currentThread: UInt {
        #if canImport(Darwin)
        return UInt(bitPattern: pthread_self())
        #else
        return UInt(pthread_self())
        #endif
    }
}
