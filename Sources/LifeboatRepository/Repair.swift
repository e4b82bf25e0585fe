import Foundation
import LifeboatCrypto

/// What `Repository.repairPacks` did.
public struct RepairReport: Sendable {
    /// Packs taken out of the index and deleted (damaged) or only taken out (missing).
    public var packsRemoved: [String] = []
    /// Intact blobs of damaged packs, stored again in new packs.
    public var blobsSalvaged = 0
    /// Blobs that were in the removed packs and could not be read back: lost until a backup
    /// stores the same data again.
    public var blobsLost = 0
    public var indexFilesRewritten = 0
    /// Index files that could not be read, removed.
    public var indexFilesRemoved: [String] = []
    /// Intact packs that no index listed (after a damaged or lost index file), indexed again.
    public var packsReindexed = 0
    /// Snapshot objects that could not be read, removed (see `removeDamagedSnapshots`).
    public var snapshotsRemoved: [String] = []

    public var changedAnything: Bool {
        !packsRemoved.isEmpty || !indexFilesRemoved.isEmpty || packsReindexed > 0 || indexFilesRewritten > 0
            || !snapshotsRemoved.isEmpty
    }
}

extension Repository {
    /// Removes the snapshot objects among `ids` that still fail to authenticate or decode when
    /// read once more; returns those removed. Such a snapshot cannot be read by any means (its
    /// root tree ID is inside it), and while it stays every check fails. A snapshot that reads
    /// now, or fails for another reason (an I/O error), is left alone. Call under an exclusive lock.
    public func removeDamagedSnapshots(_ ids: Set<String>) throws -> [String] {
        var removed: [String] = []
        for id in ids.sorted() {
            let name = ObjectName(.snapshot, id)
            do {
                _ = try loadJSON(Snapshot.self, name, associatedData: Snapshot.associatedData)
            } catch let error as RepositoryError where error.code == .damaged {
                try backend.remove(name)
                removed.append(id)
            } catch {
                continue
            }
        }
        return removed
    }

    /// Takes `damagedIndexed` packs (as `check(readData: true)` names them, missing ones
    /// included) out of the repository, so that new backups store their data again instead of
    /// pointing at it; also removes unreadable index files, indexes again the intact packs that
    /// no index lists, and treats the unlisted packs that are not intact as damaged.
    ///
    /// Every blob of a damaged pack that still decrypts and matches its ID is first stored again
    /// in a new pack; then the index files are rewritten without the pack and the pack file is
    /// deleted. Call under an exclusive lock. A crash part-way leaves a repository that a rerun
    /// repairs: a damaged pack that is no longer indexed is never adopted again (its hash does
    /// not match) but is still salvaged from here, using its own header.
    public func repairPacks(_ damagedIndexed: Set<ObjectID>) throws -> RepairReport {
        var report = RepairReport()
        var damaged = damagedIndexed
        var locations: [ObjectID: [BlobLocation]] = [:]
        var indexFiles: [(name: ObjectName, file: IndexFile)] = []
        for entry in try backend.list(.index) {
            let name = ObjectName(.index, entry.name)
            guard let (file, recorded) = try readIndexFile(name) else {
                // Unreadable: it goes, and the packs it listed are indexed again at the end.
                try backend.remove(name)
                report.indexFilesRemoved.append(entry.name)
                continue
            }
            indexFiles.append((name, file))
            for location in recorded where damaged.contains(location.pack) {
                locations[location.pack, default: []].append(location)
            }
        }
        if !report.indexFilesRemoved.isEmpty { try synchronizeIndex() }
        // Intact packs that no index lists (their index file was damaged or lost) are indexed
        // again; those still unindexed then fail their hash, so they are damaged as well.
        report.packsReindexed = try adoptUnindexedPacks()
        let indexed = try index.knownPacks()
        let present = Set(try backend.list(.data).compactMap { ObjectID(hex: $0.name) })
        damaged.formUnion(present.subtracting(indexed))
        // One pack at a time, so at most one pack's blobs are held in memory.
        for pack in damaged.sorted() {
            // Left unindexed by an interrupted repair: only its own header says what it holds.
            var wanted = locations[pack] ?? []
            if wanted.isEmpty && !indexed.contains(pack) && present.contains(pack) {
                wanted = (try? headerLocations(pack)) ?? []
            }
            // 1. Read out what is intact, before anything is removed.
            var salvaged: [(location: BlobLocation, plaintext: [UInt8])] = []
            if present.contains(pack), let bytes = try? backend.load(ObjectName(.data, pack.hex)) {
                for location in wanted {
                    let end = Int(location.offset) + Int(location.length)
                    if end <= bytes.count,
                        let plaintext = try? decodeBlob(Array(bytes[Int(location.offset)..<end]), location: location)
                    {
                        salvaged.append((location, plaintext))
                    }
                }
            }
            report.blobsLost += wanted.count - salvaged.count

            // 2. Index files without the pack (the new one is written before the old goes).
            for (offset, entry) in indexFiles.enumerated().reversed()
            where entry.file.packs.contains(where: { $0.id == pack.hex }) {
                let kept = entry.file.packs.filter { $0.id != pack.hex }
                if !kept.isEmpty {
                    let file = IndexFile(packs: kept, supersedes: [entry.name.name])
                    let id = try saveJSON(file, kind: .index, associatedData: IndexFile.associatedData)
                    indexFiles.append((ObjectName(.index, id.hex), file))
                }
                try backend.remove(entry.name)
                indexFiles.remove(at: offset)
                report.indexFilesRewritten += 1
            }
            try synchronizeIndex()

            // 3. The intact blobs into new packs; then the damaged pack goes.
            for (location, plaintext) in salvaged {
                _ = try plaintext.withUnsafeBytes { try save(location.type, id: location.id, plaintext: $0) }
            }
            try flush()
            report.blobsSalvaged += salvaged.count
            if present.contains(pack) { try backend.remove(ObjectName(.data, pack.hex)) }
            report.packsRemoved.append(pack.hex)
        }
        return report
    }

    /// The blob locations a pack's own header lists.
    private func headerLocations(_ pack: ObjectID) throws -> [BlobLocation] {
        let name = ObjectName(.data, pack.hex)
        let bytes = try backend.load(name)
        return try PackFormat.parseTrailer(bytes, packSize: bytes.count, key: keys.encryption, context: name.path)
            .map { BlobLocation($0, in: pack) }
    }
}
