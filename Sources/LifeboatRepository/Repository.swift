import Foundation
import LifeboatCrypto
import LifeboatSQLite
import Synchronization

/// An open repository: the format of DESIGN.md §4 over a `Backend`.
///
/// Safe to use from several threads: `save` does its hashing, compression and encryption on the
/// caller's thread and only appends to the open pack under a lock.
public final class Repository: BlobStore, Sendable {
    public let backend: any Backend
    public let config: RepositoryConfig
    /// The key file that opened the repository.
    public let keyID: String
    let keys: RepositoryKeys
    let master: SymmetricKey
    let index: IndexCache
    /// Where packs are assembled (see `SpooledPack`).
    let spoolDirectory: String
    /// zstd level for blobs: 3 keeps the first backup fast on two cores and compresses well.
    let compressionLevel: Int32 = 3
    /// Level 3 with match tables of 64 Ki and 16 Ki entries instead of 128 Ki and 64 Ki, which
    /// fit a core's cache better: measured on the Swift toolchain in 1 MiB pieces, 22% less zstd
    /// CPU for 1% more bytes. zstd is most of a first backup's CPU time. Level 2 (zstd's "fast"
    /// strategy) would be another 1.2× faster but costs 2.1% more bytes, which brought the
    /// repository to within 1% of restic's (and above it in some rounds).
    let compressionHashLog: Int32 = 16
    let compressionChainLog: Int32 = 14

    private struct WriterState {
        var packs: [BlobType: SpooledPack] = [:]
        /// Blobs saved in this session but not yet in the index cache (open or uploading packs).
        var pending: Set<BlobKey> = []
    }

    struct BlobKey: Hashable {
        let type: BlobType
        let id: BlobID
    }

    private let writer = Mutex(WriterState())
    /// Full packs are stored by one background thread so that hashing and compression go on
    /// meanwhile; at most two wait, which bounds the spool's disk use.
    private let uploadQueue = DispatchQueue(label: "lifeboat.pack-upload")
    private let uploadSlots = DispatchSemaphore(value: 2)
    private let uploadsInFlight = DispatchGroup()
    private let uploadFailure = Mutex<(any Error)?>(nil)
    /// Packs whose stored size was checked against the index in this session.
    private let verifiedPacks = Mutex(Set<ObjectID>())
    private let stats = Mutex(WriteStatistics())

    public struct WriteStatistics: Sendable {
        public var blobsAdded = 0
        public var bytesAdded: UInt64 = 0
        public var packsWritten = 0
    }

    private init(
        backend: any Backend, config: RepositoryConfig, keyID: String, master: SymmetricKey, index: IndexCache
    ) throws {
        self.backend = backend
        self.config = config
        self.keyID = keyID
        self.master = master
        guard let repositoryID = Hex.decode(config.id) else {
            throw RepositoryError(.damagedConfig, "config of \(backend.location) has a bad repository id")
        }
        self.keys = try RepositoryKeys(master: master, repositoryID: repositoryID)
        self.index = index
        self.spoolDirectory = backend.spoolDirectory ?? FileManager.default.temporaryDirectory.path
    }

    // MARK: Creating and opening

    /// Creates a new repository: config, the first key file and the directory layout.
    public static func initialize(
        backend: any Backend, passphrase: [UInt8], scrypt: Scrypt.Parameters = .interactive,
        packSize: Int = 16 << 20, cache: CacheLocation = .default
    ) throws -> Repository {
        if backend.exists(.config) {
            throw RepositoryError(
                .alreadyExists,
                "a repository already exists at \(backend.location); use it, or choose an empty directory")
        }
        if let local = backend as? LocalBackend { try local.createLayout() }
        let config = RepositoryConfig(id: Hex.encode(try SecureRandom.bytes(count: 32)), packSize: packSize)
        let master = try SymmetricKey.random(byteCount: 32)
        let keyID = try storeKey(master: master, passphrase: passphrase, scrypt: scrypt, in: backend)
        try backend.save(.config, bytes: try CanonicalJSON.encode(config))
        return try Repository(
            backend: backend, config: config, keyID: keyID, master: master,
            index: cache.open(repositoryID: config.id))
    }

    /// Opens a repository with a passphrase, trying every key file.
    public static func open(backend: any Backend, passphrase: [UInt8], cache: CacheLocation = .default) throws
        -> Repository
    {
        let config = try loadConfig(backend)
        var damaged: [String] = []
        for key in try backend.list(.key) {
            let keyFile: KeyFile
            do {
                keyFile = try CanonicalJSON.decode(
                    KeyFile.self, from: try backend.load(ObjectName(.key, key.name)), context: "key file keys/\(key.name)")
            } catch {
                damaged.append("keys/\(key.name)")
                continue
            }
            if let master = try keyFile.unwrap(passphrase: passphrase) {
                let repository = try Repository(
                    backend: backend, config: config, keyID: key.name, master: master,
                    index: cache.open(repositoryID: config.id))
                try repository.synchronizeIndex()
                return repository
            }
        }
        if !damaged.isEmpty {
            throw RepositoryError(
                .damagedKey,
                "key file \(damaged.joined(separator: ", ")) in \(backend.location) is truncated or damaged, and no other key opens with this passphrase; restore the key file from a copy or use another key's passphrase")
        }
        throw RepositoryError(
            .wrongPassphrase, "wrong passphrase: no key in \(backend.location) opens with it; check LIFEBOAT_PASSWORD or --password-file")
    }

    static func loadConfig(_ backend: any Backend) throws -> RepositoryConfig {
        let bytes: [UInt8]
        do {
            bytes = try backend.load(.config)
        } catch let error as BackendError where error.code == .notFound {
            throw RepositoryError(
                .repositoryMissing,
                "no repository at \(backend.location); create one with `lifeboat init --repo \(backend.location)` or check the path")
        }
        struct VersionProbe: Decodable { var version: Int }
        guard (try? JSONSerialization.jsonObject(with: Data(bytes))) is [String: Any] else {
            throw RepositoryError(.damagedConfig, "config of \(backend.location) is damaged (not a JSON object)")
        }
        guard let probe = try? JSONDecoder().decode(VersionProbe.self, from: Data(bytes)), probe.version >= 1 else {
            throw RepositoryError(
                .damagedConfig, "config of \(backend.location) is damaged: \"version\" is missing or not a format version (1, 2, ...)")
        }
        let readable = RepositoryConfig.readableVersions
        guard readable.contains(probe.version) else {
            throw RepositoryError(
                .unsupportedVersion,
                "repository at \(backend.location) has format version \(probe.version); this lifeboat reads versions \(readable.lowerBound) to \(readable.upperBound); use a newer lifeboat release")
        }
        do {
            return try CanonicalJSON.decode(RepositoryConfig.self, from: bytes, context: "config")
        } catch {
            throw RepositoryError(.damagedConfig, "config of \(backend.location) is damaged: \(error)")
        }
    }

    private static func storeKey(
        master: SymmetricKey, passphrase: [UInt8], scrypt: Scrypt.Parameters, in backend: any Backend
    ) throws -> String {
        let file = try KeyFile.create(master: master, passphrase: passphrase, parameters: scrypt)
        let bytes = try CanonicalJSON.encode(file)
        let id = Hex.encode(SHA256.hash(bytes))
        try backend.save(ObjectName(.key, id), bytes: bytes)
        return id
    }

    /// Adds a key file for another passphrase; the master key (and so all data) stays the same.
    public func addKey(passphrase: [UInt8], scrypt: Scrypt.Parameters = .interactive) throws -> String {
        try Repository.storeKey(master: master, passphrase: passphrase, scrypt: scrypt, in: backend)
    }

    public struct KeyInfo: Sendable {
        public let id: String
        public let created: String
        public let host: String
        public let username: String
        public let isCurrent: Bool
    }

    public func listKeys() throws -> [KeyInfo] {
        try backend.list(.key).map { entry in
            let file = try CanonicalJSON.decode(
                KeyFile.self, from: try backend.load(ObjectName(.key, entry.name)), context: "keys/\(entry.name)")
            return KeyInfo(
                id: entry.name, created: file.created, host: file.host, username: file.username,
                isCurrent: entry.name == keyID)
        }
    }

    // MARK: Encrypted objects

    func seal(_ plaintext: [UInt8], _ associatedData: [UInt8]) throws -> [UInt8] {
        try AESGCM.seal(plaintext, key: keys.encryption, associatedData: associatedData)
    }

    func open(_ sealed: [UInt8], _ associatedData: [UInt8], object: String) throws -> [UInt8] {
        do {
            return try AESGCM.open(sealed, key: keys.encryption, associatedData: associatedData)
        } catch {
            throw RepositoryError(.damaged, "\(object) fails authentication: it is damaged (or not of this repository)")
        }
    }

    /// Saves an encrypted JSON object under the SHA-256 of its stored bytes.
    /// From format version 2 on, sealed JSON objects (index files, snapshots, locks) are
    /// zstd-compressed when that saves space: an index file's hex IDs and repeated keys shrink
    /// to about a third, which is 1% of a repository of small files. A reader tells the two
    /// forms apart by the first bytes (JSON starts with `{`, a zstd frame with its magic number).
    func saveJSON(_ value: some Encodable, kind: ObjectKind, associatedData: [UInt8]) throws -> ObjectID {
        var plain = try CanonicalJSON.encode(value)
        if config.version >= 2 {
            let compressed = try Zstd.compress(plain, level: compressionLevel)
            if compressed.count < plain.count { plain = compressed }
        }
        let sealed = try seal(plain, associatedData)
        let id = ObjectID(digest: SHA256.hash(sealed))
        try backend.save(ObjectName(kind, id.hex), bytes: sealed)
        return id
    }

    /// The largest decompressed JSON object a reader accepts (an index file of about 8 million
    /// blobs), so a damaged size field cannot make it allocate without bound.
    static let maximumJSONObjectSize = 1 << 30

    func loadJSON<T: Decodable>(_ type: T.Type, _ name: ObjectName, associatedData: [UInt8]) throws -> T {
        let stored = try backend.load(name)
        var plain = try open(stored, associatedData, object: name.path)
        if Zstd.isFrame(plain) {
            do {
                plain = try Zstd.decompressFrame(plain, limit: Self.maximumJSONObjectSize)
            } catch {
                throw RepositoryError(.damaged, "\(name.path) does not decompress: \(error)")
            }
        }
        do {
            return try CanonicalJSON.decode(type, from: plain, context: name.path)
        } catch {
            throw RepositoryError(.damaged, "\(error)")
        }
    }

    // MARK: Index

    /// Brings the local index cache in line with the repository's index files: loads new ones,
    /// and rebuilds from scratch when the cache knows index files the repository no longer has.
    public func synchronizeIndex() throws {
        let remote = Set(try backend.list(.index).map(\.name))
        var cached = try index.indexFileIDs()
        if !cached.isSubset(of: remote) {
            try index.clear()
            cached = []
        }
        for id in remote.subtracting(cached).sorted() {
            let name = ObjectName(.index, id)
            // One damaged index file must not make the whole repository unusable: its packs are
            // then simply unindexed (their blobs are stored again, or repair re-indexes them).
            guard let (file, locations) = try readIndexFile(name) else { continue }
            let packs = file.packs.compactMap { pack in ObjectID(hex: pack.id).map { (id: $0, size: pack.size) } }
            try index.insert(locations, packs: packs, indexFile: id)
        }
    }

    /// An index file and the locations it records, or nil if it is damaged (fails
    /// authentication or decoding); other errors (I/O) are thrown.
    func readIndexFile(_ name: ObjectName) throws -> (file: IndexFile, locations: [BlobLocation])? {
        do {
            let file = try loadJSON(IndexFile.self, name, associatedData: IndexFile.associatedData)
            return (file, try file.locations(context: name.path))
        } catch let error as RepositoryError where error.code == .damaged {
            return nil
        } catch is FormatError {
            return nil
        }
    }

    /// What `reconcilePacks` found in the repository's packs against the index.
    public struct PackReconciliation: Sendable {
        /// Packs a killed backup stored but did not index, now indexed.
        public var adopted = 0
        /// Packs the index lists that are gone from the repository.
        public var missing: [ObjectID] = []
    }

    /// Adds to the index the packs that a killed backup stored but did not get to index, so the
    /// next backup reuses their blobs instead of storing them again. Returns how many it adopted.
    @discardableResult
    public func adoptUnindexedPacks() throws -> Int {
        try reconcilePacks(forgetMissing: false).adopted
    }

    /// Adopts unindexed packs (see `adoptUnindexedPacks`) and finds the indexed packs that are
    /// gone. With `forgetMissing`, the local cache stops offering the blobs of the missing packs,
    /// so a backup stores their data again instead of pointing a new snapshot at a pack that is
    /// not there; the index files still list them until `repair` takes them out.
    public func reconcilePacks(forgetMissing: Bool) throws -> PackReconciliation {
        sweepSpool()
        let known = try index.knownPacks()
        var result = PackReconciliation()
        var present = Set<ObjectID>()
        for entry in try backend.list(.data) {
            guard let id = ObjectID(hex: entry.name) else { continue }
            present.insert(id)
            guard !known.contains(id) else { continue }
            let name = ObjectName(.data, entry.name)
            guard let bytes = try? backend.load(name), ObjectID(digest: SHA256.hash(bytes)) == id,
                let entries = try? PackFormat.parseTrailer(
                    bytes, packSize: bytes.count, key: keys.encryption, context: name.path)
            else { continue }  // damaged or partial: check reports it; it is never used
            try recordPack(id, size: bytes.count, entries: entries)
            result.adopted += 1
        }
        // An indexed pack is stored before its index file is written, so one that the listing
        // lacks was lost or deleted, not still on its way.
        result.missing = known.subtracting(present).sorted()
        if forgetMissing && !result.missing.isEmpty { try index.forget(packs: result.missing) }
        return result
    }

    /// Removes spool files left by processes of this host that are gone (a killed backup).
    private func sweepSpool() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: spoolDirectory) else { return }
        for name in names where name.hasPrefix(SpooledPack.prefix) {
            let pid = name.dropFirst(SpooledPack.prefix.count).prefix { $0 != "-" }
            guard let pid = Int32(pid), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(atPath: spoolDirectory + "/" + name)
        }
    }

    /// Writes the pack's index file, then adds it to the cache. `removeOnFailure`: if the index
    /// file cannot be written (a full disk), the pack is removed again rather than left taking
    /// space unindexed; once the index file exists, the pack is never removed.
    private func recordPack(
        _ pack: ObjectID, size: Int, entries: [PackFormat.Entry], removeOnFailure: Bool = false
    ) throws {
        let indexID: ObjectID
        do {
            indexID = try saveJSON(
                IndexFile(pack: pack, size: size, entries: entries), kind: .index, associatedData: IndexFile.associatedData)
        } catch {
            if removeOnFailure { try? backend.remove(ObjectName(.data, pack.hex)) }
            throw error
        }
        let locations = entries.map { BlobLocation($0, in: pack) }
        try index.insert(locations, packs: [(pack, UInt64(size))], indexFile: indexID.hex)
    }

    // MARK: BlobStore

    public func blobID(of plaintext: UnsafeRawBufferPointer) -> BlobID {
        ObjectID(digest: HMACSHA256.authenticate(plaintext, key: keys.blobID))
    }

    public func contains(_ id: BlobID, type: BlobType) -> Bool {
        if writer.withLock({ $0.pending.contains(BlobKey(type: type, id: id)) }) { return true }
        return (try? index.mightContain(type, id)) == true && (try? index.lookup(type, id)) != nil
    }

    @discardableResult
    public func save(_ type: BlobType, id: BlobID, plaintext: UnsafeRawBufferPointer) throws -> Int {
        if let failure = uploadFailure.withLock({ $0 }) { throw failure }
        let key = BlobKey(type: type, id: id)
        if try index.mightContain(type, id), try index.lookup(type, id) != nil { return 0 }
        let reserved = writer.withLock { $0.pending.insert(key).inserted }
        guard reserved else { return 0 }
        do {
            let associatedData = PackFormat.blobAssociatedData(type, id)
            var compressed = false
            let sealed: [UInt8]
            if plaintext.count > 0, let packed = try? Zstd.compress(
                plaintext, level: compressionLevel, hashLog: compressionHashLog, chainLog: compressionChainLog),
                packed.count < plaintext.count
            {
                compressed = true
                sealed = try seal(packed, associatedData)
            } else {
                sealed = try AESGCM.seal(plaintext, key: keys.encryption, associatedData: associatedData)
            }
            let full: SpooledPack? = try writer.withLock { state in
                let pack = try state.packs[type] ?? SpooledPack(directory: spoolDirectory)
                state.packs[type] = pack
                try pack.append(type: type, id: id, sealed: sealed, rawLength: plaintext.count, compressed: compressed)
                return pack.size >= config.packSize ? state.packs.removeValue(forKey: type) : nil
            }
            stats.withLock {
                $0.blobsAdded += 1
                $0.bytesAdded += UInt64(sealed.count)
            }
            if let full { enqueueUpload(full) }
            return sealed.count
        } catch {
            writer.withLock { _ = $0.pending.remove(key) }
            throw error
        }
    }

    private func enqueueUpload(_ pack: SpooledPack) {
        uploadSlots.wait()
        uploadsInFlight.enter()
        uploadQueue.async { [self] in
            defer {
                uploadSlots.signal()
                uploadsInFlight.leave()
            }
            guard uploadFailure.withLock({ $0 == nil }) else { return pack.discard() }
            do {
                try upload(pack)
            } catch {
                pack.discard()
                uploadFailure.withLock { $0 = error }
            }
        }
    }

    private func upload(_ pack: SpooledPack) throws {
        let (id, size) = try pack.finish(key: keys.encryption)
        try backend.store(ObjectName(.data, id.hex), spooledFile: pack.path)
        try recordPack(id, size: size, entries: pack.entries, removeOnFailure: true)
        writer.withLock { state in
            for entry in pack.entries { state.pending.remove(BlobKey(type: entry.type, id: entry.id)) }
        }
        stats.withLock { $0.packsWritten += 1 }
    }

    /// Writes the open packs and their index. Call after the last `save` of a backup, before
    /// the snapshot that refers to the blobs is saved.
    public func flush() throws {
        let open = writer.withLock { state -> [SpooledPack] in
            defer { state.packs = [:] }
            return Array(state.packs.values)
        }
        for pack in open { enqueueUpload(pack) }
        try waitForUploads()
    }

    /// Deletes the spool files of the packs not yet finished, for a backup that failed (after a
    /// full disk, they would otherwise keep it full until the next run sweeps them).
    public func discardOpenPacks() {
        // Packs already handed to the uploader are discarded by it once the upload fails.
        try? waitForUploads()
        let open = writer.withLock { state -> [SpooledPack] in
            defer { state.packs = [:] }
            return Array(state.packs.values)
        }
        for pack in open { pack.discard() }
    }

    /// Waits until every pack that filled up so far is uploaded and indexed, leaving the open
    /// packs open. Throws the first upload failure.
    public func waitForUploads() throws {
        uploadsInFlight.wait()
        if let failure = uploadFailure.withLock({ $0 }) { throw failure }
    }

    public var writeStatistics: WriteStatistics { stats.withLock { $0 } }

    public func load(_ type: BlobType, id: BlobID) throws -> [UInt8] {
        // The cache was reconciled with the repository's index files when it was opened
        // (`synchronizeIndex`), so a pack that cannot be read here is damaged or missing.
        let location = try locate(type, id)
        let sealed: [UInt8]
        do {
            try verifyPackSize(location.pack)
            sealed = try backend.load(
                ObjectName(.data, location.pack.hex), offset: Int(location.offset), length: Int(location.length))
        } catch let error as BackendError {
            throw RepositoryError(
                .damaged, "pack \(location.pack.hex) holding blob \(id.hex) cannot be read: \(error.message)")
        }
        return try decodeBlob(sealed, location: location)
    }

    /// A pack whose length differs from the index's record was appended to or truncated:
    /// its blobs may still authenticate, but the object is damaged and is not trusted.
    private func verifyPackSize(_ pack: ObjectID) throws {
        if verifiedPacks.withLock({ $0.contains(pack) }) { return }
        guard let expected = try index.packSize(pack) else { return }
        let actual = try backend.size(ObjectName(.data, pack.hex))
        guard UInt64(actual) == expected else {
            throw RepositoryError(
                .damaged,
                "pack \(pack.hex) is damaged: it has \(actual) bytes, the index records \(expected); run `lifeboat check --read-data`")
        }
        verifiedPacks.withLock { _ = $0.insert(pack) }
    }

    func locate(_ type: BlobType, _ id: BlobID) throws -> BlobLocation {
        guard let location = try index.lookup(type, id) else {
            throw RepositoryError(
                .missing,
                "\(type == .tree ? "tree" : "data") blob \(id.hex) is not in the repository index; run `lifeboat check` to find the damage")
        }
        return location
    }

    /// Authenticates, decompresses and verifies the ID of one sealed blob.
    func decodeBlob(_ sealed: [UInt8], location: BlobLocation) throws -> [UInt8] {
        let place = "blob \(location.id.hex) in pack \(location.pack.hex)"
        let payload = try open(sealed, PackFormat.blobAssociatedData(location.type, location.id), object: place)
        let plain: [UInt8]
        if location.compressed {
            do {
                plain = try payload.withUnsafeBytes {
                    try Zstd.decompress($0, expectedSize: Int(location.rawLength))
                }
            } catch {
                throw RepositoryError(.damaged, "\(place) does not decompress: \(error)")
            }
        } else {
            plain = payload
        }
        let actual = plain.withUnsafeBytes { blobID(of: $0) }
        guard actual == location.id else { throw RepositoryError(.damaged, "\(place) holds other content than its ID says") }
        return plain
    }

    public func saveTree(_ tree: Tree) throws -> BlobID {
        let bytes = TreeCoding.encode(tree)
        return try bytes.withUnsafeBytes { raw in
            let id = blobID(of: raw)
            try save(.tree, id: id, plaintext: raw)
            return id
        }
    }

    public func loadTree(_ id: BlobID) throws -> Tree {
        let bytes: [UInt8]
        if let sealed = try? index.cachedTree(id), let location = try? index.lookup(.tree, id),
            let plain = try? decodeBlob(sealed, location: location)
        {
            bytes = plain
        } else {
            let location = try locate(.tree, id)
            try verifyPackSize(location.pack)
            let sealed = try backend.load(
                ObjectName(.data, location.pack.hex), offset: Int(location.offset), length: Int(location.length))
            bytes = try decodeBlob(sealed, location: location)
            try? index.cacheTree(id, sealed: sealed)
        }
        do {
            return try TreeCoding.decode(bytes, context: "tree \(id.hex)")
        } catch {
            throw RepositoryError(.damaged, "\(error)")
        }
    }

    public func makeChunker() -> Chunker {
        Chunker(
            gear: keys.gear,
            parameters: Chunker.Parameters(
                minimum: config.chunkerMinimum, average: config.chunkerAverage, maximum: config.chunkerMaximum))
    }

    // MARK: Snapshots

    public func saveSnapshot(_ snapshot: Snapshot) throws -> ObjectID {
        try saveJSON(snapshot, kind: .snapshot, associatedData: Snapshot.associatedData)
    }

    /// Every snapshot, oldest first. A snapshot object that cannot be read is reported through
    /// `damaged` (its ID, and the error, which names the object) rather than hiding the others.
    public func snapshots(damaged: ((String, any Error) -> Void)? = nil) throws -> [SnapshotRecord] {
        var records: [SnapshotRecord] = []
        for entry in try backend.list(.snapshot) {
            guard let id = ObjectID(hex: entry.name) else { continue }
            do {
                let snapshot = try loadJSON(
                    Snapshot.self, ObjectName(.snapshot, entry.name), associatedData: Snapshot.associatedData)
                records.append(SnapshotRecord(id: id, snapshot: snapshot))
            } catch {
                damaged?(entry.name, error)
            }
        }
        return records.sorted { ($0.snapshot.time, $0.id) < ($1.snapshot.time, $1.id) }
    }

    /// Finds a snapshot by full ID, unique ID prefix, or `latest` (optionally of given paths
    /// and host, for choosing a backup's parent).
    public func findSnapshot(_ reference: String) throws -> SnapshotRecord {
        let all = try snapshots()
        if reference == "latest" {
            guard let last = all.last else {
                throw RepositoryError(.snapshotNotFound, "the repository has no snapshots yet; run `lifeboat backup` first")
            }
            return last
        }
        let prefix = reference.lowercased()
        let matches = all.filter { $0.id.hex.hasPrefix(prefix) }
        guard !prefix.isEmpty, let first = matches.first else {
            throw RepositoryError(
                .snapshotNotFound, "no snapshot \(reference) in \(backend.location); `lifeboat snapshots` lists them")
        }
        guard matches.count == 1 else {
            throw RepositoryError(
                .ambiguousSnapshot,
                "snapshot prefix \(reference) matches \(matches.count) snapshots; give more characters")
        }
        return first
    }
}
