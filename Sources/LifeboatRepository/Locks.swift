import Foundation
import Synchronization

/// A lock held in `locks/<id>` for the duration of an operation.
///
/// Backups take shared locks (two backups into one repository both proceed); operations that
/// remove data take an exclusive one. A lock records host and PID and is refreshed every five
/// minutes; a lock whose process is gone (same host, no such PID) or that was not refreshed
/// for 30 minutes is stale and is removed by whoever finds it.
// @unchecked: the Dispatch timer is not Sendable, but it is only resumed once (in `acquire`) and
// cancelled (which Dispatch allows from any thread); the lock ID is behind a Mutex.
public final class RepositoryLock: @unchecked Sendable {
    private let repository: Repository
    private let current = Mutex<ObjectID?>(nil)
    private let exclusive: Bool
    private let timer: any DispatchSourceTimer

    static let refreshInterval: TimeInterval = 300
    static let staleAfter: TimeInterval = 1800

    private init(repository: Repository, exclusive: Bool, id: ObjectID) {
        self.repository = repository
        self.exclusive = exclusive
        current.withLock { $0 = id }
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
    }

    /// Takes a lock, removing stale ones; throws `.locked` naming the holder when a live
    /// conflicting lock exists.
    public static func acquire(_ repository: Repository, exclusive: Bool) throws -> RepositoryLock {
        try checkConflicts(repository, exclusive: exclusive, own: nil)
        let id = try write(repository, exclusive: exclusive)
        // Re-check after writing: two exclusive lockers racing both see the other and back off.
        do {
            try checkConflicts(repository, exclusive: exclusive, own: id)
        } catch {
            try? repository.backend.remove(ObjectName(.lock, id.hex))
            throw error
        }
        let lock = RepositoryLock(repository: repository, exclusive: exclusive, id: id)
        lock.startRefreshing()
        return lock
    }

    private static func write(_ repository: Repository, exclusive: Bool) throws -> ObjectID {
        let file = LockFile(
            time: TimeText.format(Date()), host: ProcessInfo.processInfo.hostName, pid: getpid(),
            username: ProcessInfo.processInfo.environment["USER"] ?? "", exclusive: exclusive)
        return try repository.saveJSON(file, kind: .lock, associatedData: LockFile.associatedData)
    }

    private static func checkConflicts(_ repository: Repository, exclusive: Bool, own: ObjectID?) throws {
        let host = ProcessInfo.processInfo.hostName
        for entry in try repository.backend.list(.lock) where entry.name != own?.hex {
            let name = ObjectName(.lock, entry.name)
            guard let lock = try? repository.loadJSON(LockFile.self, name, associatedData: LockFile.associatedData)
            else { continue }  // unreadable: another repository key's lock, or half-written; ignore
            let age = TimeText.parse(lock.time).map { Date().timeIntervalSince($0) } ?? .infinity
            let processGone = lock.host == host && kill(lock.pid, 0) != 0 && errno == ESRCH
            if processGone || age > staleAfter {
                try? repository.backend.remove(name)
                continue
            }
            if exclusive || lock.exclusive {
                throw RepositoryError(
                    .locked,
                    "repository is locked \(lock.exclusive ? "exclusively " : "")by PID \(lock.pid) on \(lock.host) since \(lock.time); wait for it to finish (a lock of a dead process is taken over automatically)")
            }
        }
    }

    private func startRefreshing() {
        timer.schedule(deadline: .now() + RepositoryLock.refreshInterval, repeating: RepositoryLock.refreshInterval)
        timer.setEventHandler { [self] in
            guard let fresh = try? RepositoryLock.write(repository, exclusive: exclusive) else { return }
            let old = current.withLock { value -> ObjectID? in
                defer { value = fresh }
                return value
            }
            if let old { try? repository.backend.remove(ObjectName(.lock, old.hex)) }
        }
        timer.resume()
    }

    /// Removes the lock. Safe to call more than once.
    public func release() {
        timer.cancel()
        if let id = current.withLock({ value -> ObjectID? in
            defer { value = nil }
            return value
        }) {
            try? repository.backend.remove(ObjectName(.lock, id.hex))
        }
    }

    deinit { release() }
}
