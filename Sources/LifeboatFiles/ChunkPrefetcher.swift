import Foundation
import LifeboatRepository

/// Loads the chunks of one file ahead of the writer, on a pool of its own, and hands them out
/// in order: a big file's chunks decrypt and decompress in parallel while its bytes are still
/// written sequentially. At most `depth` chunks are loaded but not yet taken, which bounds
/// memory.
final class ChunkPrefetcher: @unchecked Sendable {
    // @unchecked: every mutable field is read and written under `condition`.
    private let ids: [BlobID]
    private let store: any BlobStore
    private let pool: WorkerPool
    private let depth: Int
    private let condition = NSCondition()
    private var slots: [Int: Result<[UInt8], any Error>] = [:]
    private var submitted = 0
    private var taken = 0

    init(ids: [BlobID], store: any BlobStore, pool: WorkerPool, depth: Int) {
        self.ids = ids
        self.store = store
        self.pool = pool
        self.depth = max(1, depth)
    }

    /// The next chunk's plaintext; rethrows its load error.
    func next() throws -> [UInt8] {
        condition.lock()
        let index = taken
        while submitted < ids.count && submitted < index + depth {
            let job = submitted
            submitted += 1
            condition.unlock()
            pool.submit { [self] in
                let result = Result { try store.load(.data, id: ids[job]) }
                condition.lock()
                slots[job] = result
                condition.broadcast()
                condition.unlock()
            }
            condition.lock()
        }
        while slots[index] == nil { condition.wait() }
        let result = slots.removeValue(forKey: index)
        taken += 1
        condition.unlock()
        guard let result else { throw FilesError("chunk \(index) was not loaded") }
        return try result.get()
    }

    /// Waits for the loads still running, so none outlives the file it belongs to.
    func drain() {
        condition.lock()
        while slots.count + taken < submitted { condition.wait() }
        slots.removeAll()
        condition.unlock()
    }
}
