import Foundation
import LifeboatSQLite

/// Where the local index cache lives. It holds only what can be rebuilt from the repository
/// (index entries and sealed tree blobs), so any of these is safe to delete.
public enum CacheLocation: Sendable {
    /// `$XDG_CACHE_HOME/lifeboat`, `/var/cache/lifeboat` for root, else `~/.cache/lifeboat`.
    case `default`
    case directory(String)
    /// An in-memory cache, rebuilt on every open.
    case memory

    public var directory: String? {
        switch self {
        case .memory: return nil
        case .directory(let path): return path
        case .default:
            let environment = ProcessInfo.processInfo.environment
            if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/lifeboat" }
            if getuid() == 0 { return "/var/cache/lifeboat" }
            return (environment["HOME"] ?? NSHomeDirectory()) + "/.cache/lifeboat"
        }
    }

    func open(repositoryID: String) throws -> IndexCache {
        guard let base = directory else {
            return try IndexCache(database: try SQLiteDatabase.inMemory(), repositoryID: repositoryID)
        }
        let directory = base + "/" + repositoryID
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            return try IndexCache(database: try SQLiteDatabase(path: directory + "/index.sqlite"), repositoryID: repositoryID)
        } catch {
            // A cache that cannot be opened (read-only home, damaged file) is replaced by a
            // fresh one; failing that, an in-memory cache keeps the command working.
            try? FileManager.default.removeItem(atPath: directory + "/index.sqlite")
            if let database = try? SQLiteDatabase(path: directory + "/index.sqlite"),
                let cache = try? IndexCache(database: database, repositoryID: repositoryID)
            {
                return cache
            }
            return try IndexCache(database: try SQLiteDatabase.inMemory(), repositoryID: repositoryID)
        }
    }
}
