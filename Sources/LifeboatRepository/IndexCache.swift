import Foundation
import LifeboatSQLite
import Synchronization

/// The local cache of the repository index in SQLite, so blob lookups do not hold the whole
/// index in memory. It is only a cache: deleting it loses nothing, and `synchronize` rebuilds it
/// whenever it disagrees with the index files in the repository.
final class IndexCache: Sendable {
    private let db: SQLiteDatabase
    /// Built at the first `mightContain`, then kept up to date by `insert`.
    private let filter = Mutex<BlobFilter?>(nil)

    /// The schema version of the cache; a different one is discarded and rebuilt.
    private static let schema = "2"

    init(database: SQLiteDatabase, repositoryID: String) throws {
        db = database
        try db.execute(
            """
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS index_files(id TEXT PRIMARY KEY);
            CREATE TABLE IF NOT EXISTS blobs(
                id BLOB NOT NULL, type INTEGER NOT NULL, pack BLOB NOT NULL, offset INTEGER NOT NULL,
                length INTEGER NOT NULL, raw_length INTEGER NOT NULL, compressed INTEGER NOT NULL,
                PRIMARY KEY(id, type)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS packs(id BLOB PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS tree_cache(id BLOB PRIMARY KEY, sealed BLOB NOT NULL) WITHOUT ROWID;
            """)
        let stored = try db.query("SELECT key, value FROM meta")
        var meta: [String: String] = [:]
        for row in stored { if let k = row[0].text, let v = row[1].text { meta[k] = v } }
        if meta["repository"] != repositoryID || meta["schema"] != IndexCache.schema {
            try clear(includingTrees: true)
            try db.run("INSERT OR REPLACE INTO meta VALUES('repository', ?)", [.text(repositoryID)])
            try db.run("INSERT OR REPLACE INTO meta VALUES('schema', ?)", [.text(IndexCache.schema)])
        }
    }

    func clear(includingTrees: Bool = false) throws {
        try db.transaction {
            try db.run("DELETE FROM index_files")
            try db.run("DELETE FROM blobs")
            try db.run("DELETE FROM packs")
            if includingTrees { try db.run("DELETE FROM tree_cache") }
        }
    }

    func indexFileIDs() throws -> Set<String> {
        Set(try db.query("SELECT id FROM index_files").compactMap { $0[0].text })
    }

    /// Records the blobs of one index file (or of a freshly written pack).
    func insert(_ locations: [BlobLocation], packs: [(id: ObjectID, size: UInt64)], indexFile: String?) throws {
        try db.transaction {
            for location in locations {
                try db.run(
                    "INSERT OR IGNORE INTO blobs VALUES(?, ?, ?, ?, ?, ?, ?)",
                    [
                        .blob(location.id.bytes), .integer(Int64(location.type.rawValue)),
                        .blob(location.pack.bytes), .integer(Int64(location.offset)),
                        .integer(Int64(location.length)), .integer(Int64(location.rawLength)),
                        .integer(location.compressed ? 1 : 0),
                    ])
            }
            for pack in packs {
                try db.run("INSERT OR IGNORE INTO packs VALUES(?, ?)", [.blob(pack.id.bytes), .integer(Int64(pack.size))])
            }
            if let indexFile { try db.run("INSERT OR IGNORE INTO index_files VALUES(?)", [.text(indexFile)]) }
            // In the transaction, so `buildFilter` (in one too) cannot miss these.
            if let built = filter.withLock({ $0 }) {
                for location in locations { built.insert(location.type, location.id) }
            }
        }
    }

    /// Whether the cache may hold the blob; false means it certainly does not. Blobs that
    /// another process indexes after the filter was built read as absent here: at worst such a
    /// blob is stored twice, as when two backups race to store it.
    func mightContain(_ type: BlobType, _ id: BlobID) throws -> Bool {
        let built = try filter.withLock({ $0 }) ?? buildFilter()
        return built.mightContain(type, id)
    }

    private func buildFilter() throws -> BlobFilter {
        try db.transaction {
            if let built = filter.withLock({ $0 }) { return built }
            let count = try db.query("SELECT count(*) FROM blobs").first?.first?.int64 ?? 0
            let built = BlobFilter(bitCount: BlobFilter.bitCount(forKeys: Int(count)))
            try db.forEachRow("SELECT type, id FROM blobs") { row in
                guard let raw = row[0].int64, let type = UInt8(exactly: raw).flatMap(BlobType.init(rawValue:)),
                    let bytes = row[1].blob, let id = ObjectID(bytes: bytes)
                else { return }
                built.insert(type, id)
            }
            filter.withLock { $0 = built }
            return built
        }
    }

    func lookup(_ type: BlobType, _ id: BlobID) throws -> BlobLocation? {
        let rows = try db.query(
            "SELECT pack, offset, length, raw_length, compressed FROM blobs WHERE id = ? AND type = ?",
            [.blob(id.bytes), .integer(Int64(type.rawValue))])
        guard let row = rows.first, let packBytes = row[0].blob, let pack = ObjectID(bytes: packBytes),
            let offset = row[1].int64, let length = row[2].int64, let raw = row[3].int64,
            let compressed = row[4].int64
        else { return nil }
        return BlobLocation(
            type: type, id: id, pack: pack, offset: UInt64(offset), length: UInt32(length),
            rawLength: UInt32(raw), compressed: compressed != 0)
    }

    /// Drops packs and their blobs from the cache (not from the repository's index files).
    func forget(packs: [ObjectID]) throws {
        try db.transaction {
            for pack in packs {
                try db.run("DELETE FROM blobs WHERE pack = ?", [.blob(pack.bytes)])
                try db.run("DELETE FROM packs WHERE id = ?", [.blob(pack.bytes)])
            }
        }
    }

    /// The size the index records for a pack.
    func packSize(_ id: ObjectID) throws -> UInt64? {
        try db.query("SELECT size FROM packs WHERE id = ?", [.blob(id.bytes)]).first?.first?.int64.map { UInt64($0) }
    }

    func knownPacks() throws -> Set<ObjectID> {
        Set(try db.query("SELECT id FROM packs").compactMap { $0[0].blob.flatMap(ObjectID.init(bytes:)) })
    }

    func cachedTree(_ id: BlobID) throws -> [UInt8]? {
        try db.query("SELECT sealed FROM tree_cache WHERE id = ?", [.blob(id.bytes)]).first?.first?.blob
    }

    func cacheTree(_ id: BlobID, sealed: [UInt8]) throws {
        try db.run("INSERT OR REPLACE INTO tree_cache VALUES(?, ?)", [.blob(id.bytes), .blob(sealed)])
    }
}
