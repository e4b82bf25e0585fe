import Dispatch
import Synchronization
import Foundation
import Testing
import LifeboatSQLite

/// A fresh directory under the system temporary directory, removed by `cleanUp()`.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("lifeboat-sqlite-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func cleanUp() { try? FileManager.default.removeItem(at: url) }
}

struct Boom: Error {}

@Suite struct SQLiteDatabaseTests {
    @Test func roundTripOfAllTypes() throws {
        let db = try SQLiteDatabase.inMemory()
        #expect(db.path == nil)
        // No declared column type, so no affinity conversion.
        try db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v)")
        let values: [SQLiteValue] = [
            .null,
            .integer(0), .integer(Int64.min), .integer(Int64.max),
            .real(3.25), .real(-0.0), .real(1e300),
            .text(""), .text("plain"), .text("ünïcødé ✓ 🛟"), .text("nul\u{0}inside"),
            .blob([]), .blob([0, 1, 2, 255]), .blob([UInt8](repeating: 0xab, count: 100_000)),
        ]
        for value in values {
            try db.run("INSERT INTO t(v) VALUES (?)", [value])
        }
        let rows = try db.query("SELECT v FROM t ORDER BY id")
        #expect(rows.map { $0[0] } == values)

        let mixed = try db.query(
            "SELECT ?, ?, ?, ?, ?", [.integer(7), .real(0.5), .text("x"), .blob([9]), .null])
        #expect(mixed == [[.integer(7), .real(0.5), .text("x"), .blob([9]), .null]])
    }

    @Test func accessors() {
        #expect(SQLiteValue.integer(5).int64 == 5)
        #expect(SQLiteValue.text("5").int64 == nil)
        #expect(SQLiteValue.text("a").text == "a")
        #expect(SQLiteValue.blob([1]).blob == [1])
        #expect(SQLiteValue.null.blob == nil)
        #expect(SQLiteValue.real(1.5).real == 1.5)
        #expect(SQLiteValue.null.isNull)
    }

    @Test func queryWithoutRowsAndCachedStatements() throws {
        let db = try SQLiteDatabase.inMemory()
        try db.execute("CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB); CREATE INDEX kv_v ON kv(v);")
        #expect(try db.query("SELECT * FROM kv").isEmpty)
        for i in 0..<1000 {
            try db.run("INSERT INTO kv VALUES (?, ?)", [.text("k\(i)"), .blob([UInt8(i % 256)])])
        }
        // More distinct statements than the cache holds.
        for i in 0..<200 {
            let rows = try db.query("SELECT v FROM kv WHERE k = 'k\(i)'")
            #expect(rows == [[.blob([UInt8(i % 256)])]])
        }
        #expect(try db.query("SELECT count(*) FROM kv") == [[.integer(1000)]])
    }

    @Test func errorsNameTheSQLAndTheDatabase() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let path = dir.path("errors.db")
        let db = try SQLiteDatabase(path: path)
        try db.execute("CREATE TABLE t(a INTEGER PRIMARY KEY)")

        let syntax = #expect(throws: SQLiteError.self) { try db.run("SELEC 1") }
        #expect(syntax?.message.contains("SELEC 1") == true)
        #expect(syntax?.message.contains(path) == true)
        #expect(syntax?.primaryCode == 1)  // SQLITE_ERROR

        try db.run("INSERT INTO t VALUES (?)", [.integer(1)])
        let constraint = #expect(throws: SQLiteError.self) { try db.run("INSERT INTO t VALUES (?)", [.integer(1)]) }
        #expect(constraint?.primaryCode == 19)  // SQLITE_CONSTRAINT
        #expect(constraint?.code == 1555)  // SQLITE_CONSTRAINT_PRIMARYKEY
        #expect(constraint?.message.contains("INSERT INTO t") == true)

        #expect(throws: SQLiteError.self) { try db.run("INSERT INTO t VALUES (?)", []) }
        #expect(throws: SQLiteError.self) { try db.run("INSERT INTO t VALUES (?)", [.integer(2), .integer(3)]) }
        #expect(throws: SQLiteError.self) { try db.run("SELECT 1; SELECT 2") }
        #expect(throws: SQLiteError.self) { try db.execute("CREATE TABLE t(a)") }
        // The connection still works after errors.
        #expect(try db.query("SELECT a FROM t") == [[.integer(1)]])
    }

    @Test func transactionCommitsAndRollsBackOnThrow() throws {
        let db = try SQLiteDatabase.inMemory()
        try db.execute("CREATE TABLE t(v INTEGER)")

        let value = try db.transaction {
            try db.run("INSERT INTO t VALUES (1)")
            try db.run("INSERT INTO t VALUES (2)")
            return try db.query("SELECT count(*) FROM t")
        }
        #expect(value == [[.integer(2)]])

        #expect(throws: Boom.self) {
            try db.transaction {
                try db.run("INSERT INTO t VALUES (3)")
                #expect(try db.query("SELECT count(*) FROM t") == [[.integer(3)]])
                throw Boom()
            }
        }
        #expect(try db.query("SELECT v FROM t ORDER BY v") == [[.integer(1)], [.integer(2)]])

        // A failing statement inside rolls back the whole transaction too.
        #expect(throws: SQLiteError.self) {
            try db.transaction {
                try db.run("INSERT INTO t VALUES (4)")
                try db.run("INSERT INTO nowhere VALUES (5)")
            }
        }
        #expect(try db.query("SELECT count(*) FROM t") == [[.integer(2)]])
        // And the database accepts new transactions afterwards.
        try db.transaction { try db.run("INSERT INTO t VALUES (6)") }
        #expect(try db.query("SELECT count(*) FROM t") == [[.integer(3)]])
    }

    @Test func nestedTransactionsAreSavepoints() throws {
        let db = try SQLiteDatabase.inMemory()
        try db.execute("CREATE TABLE t(v INTEGER)")
        try db.transaction {
            try db.run("INSERT INTO t VALUES (1)")
            #expect(throws: Boom.self) {
                try db.transaction {
                    try db.run("INSERT INTO t VALUES (2)")
                    throw Boom()
                }
            }
            try db.transaction { try db.run("INSERT INTO t VALUES (3)") }
        }
        #expect(try db.query("SELECT v FROM t ORDER BY v") == [[.integer(1)], [.integer(3)]])
    }

    @Test func concurrentUseFromTwoThreads() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let db = try SQLiteDatabase(path: dir.path("concurrent.db"))
        try db.execute("CREATE TABLE t(thread INTEGER, n INTEGER)")
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            do {
                for n in 0..<300 {
                    if n % 3 == 0 {
                        try db.transaction {
                            try db.run("INSERT INTO t VALUES (?, ?)", [.integer(Int64(thread)), .integer(Int64(n))])
                            _ = try db.query("SELECT count(*) FROM t WHERE thread = ?", [.integer(Int64(thread))])
                        }
                    } else {
                        try db.run("INSERT INTO t VALUES (?, ?)", [.integer(Int64(thread)), .integer(Int64(n))])
                        _ = try db.query("SELECT max(n) FROM t")
                    }
                }
            } catch {
                failures.withLock { $0 += 1 }
            }
        }
        #expect(failures.withLock { $0 } == 0)
        #expect(try db.query("SELECT thread, count(*) FROM t GROUP BY thread ORDER BY thread")
            == [[.integer(0), .integer(300)], [.integer(1), .integer(300)]])
    }

    @Test func reopeningAFileDatabaseKeepsData() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let path = dir.path("state.db")
        do {
            let db = try SQLiteDatabase(path: path)
            #expect(db.path == path)
            try db.execute("CREATE TABLE t(k TEXT, v BLOB)")
            try db.transaction {
                try db.run("INSERT INTO t VALUES (?, ?)", [.text("a"), .blob([1, 2, 3])])
            }
            #expect(try db.query("PRAGMA journal_mode") == [[.text("wal")]])
        }
        let reopened = try SQLiteDatabase(path: path)
        #expect(try reopened.query("SELECT k, v FROM t") == [[.text("a"), .blob([1, 2, 3])]])
        #expect(try reopened.query("PRAGMA synchronous") == [[.integer(1)]])  // NORMAL
        #expect(try reopened.query("PRAGMA busy_timeout") == [[.integer(5000)]])
    }

    @Test func aFileThatIsNotADatabaseGivesAnErrorNamingIt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let path = dir.path("garbage.db")
        let garbage = [UInt8](repeating: 0x5a, count: 8192)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(garbage)))
        let error = #expect(throws: SQLiteError.self) { _ = try SQLiteDatabase(path: path) }
        #expect(error?.primaryCode == 26)  // SQLITE_NOTADB
        #expect(error?.message.contains(path) == true)
    }

    @Test func aDamagedPageGivesAnErrorNamingTheFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let path = dir.path("damaged.db")
        do {
            let db = try SQLiteDatabase(path: path)
            // A rollback journal, so that all pages are in the main file when it is closed.
            try db.execute("PRAGMA journal_mode=DELETE; PRAGMA page_size=4096; CREATE TABLE t(v BLOB)")
            try db.transaction {
                for i in 0..<200 { try db.run("INSERT INTO t VALUES (?)", [.blob([UInt8](repeating: UInt8(i), count: 500))]) }
            }
        }
        // Page 2 is the table's root page: overwrite it with junk.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data([UInt8](repeating: 0xee, count: 4096)))
        try handle.close()

        let error = #expect(throws: SQLiteError.self) {
            let db = try SQLiteDatabase(path: path)
            _ = try db.query("SELECT count(*), sum(length(v)) FROM t")
        }
        #expect(error?.primaryCode == 11)  // SQLITE_CORRUPT
        #expect(error?.message.contains(path) == true)
    }

    @Test func openingInAMissingDirectoryFails() throws {
        let error = #expect(throws: SQLiteError.self) {
            _ = try SQLiteDatabase(path: "/nonexistent-lifeboat-dir/x/state.db")
        }
        #expect(error?.message.contains("/nonexistent-lifeboat-dir/x/state.db") == true)
    }
}
