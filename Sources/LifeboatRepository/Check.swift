import LifeboatCrypto

/// What `check` found. Problems are collected, not thrown: one damaged pack does not hide the
/// next.
public struct CheckReport: Sendable {
    public var errors: [String] = []
    public var warnings: [String] = []
    public var indexFiles = 0
    public var packs = 0
    public var blobs = 0
    public var snapshots = 0
    public var trees = 0
    public var bytesRead: UInt64 = 0
    /// Packs found damaged, by ID, so callers (and tests) can name them.
    public var damagedPacks: Set<String> = []
    /// Snapshot objects that fail authentication or do not decode, by ID: nothing in them can
    /// be recovered, and `repair` removes them.
    public var damagedSnapshots: Set<String> = []

    public var isClean: Bool { errors.isEmpty }
}

public struct CheckProgress: Sendable {
    public var phase: String
    public var done: Int
    public var total: Int
}

extension Repository {
    /// Verifies the structure of the repository and, with `readData`, every byte of every pack.
    public func check(readData: Bool, progress: (@Sendable (CheckProgress) -> Void)? = nil) throws -> CheckReport {
        var report = CheckReport()

        // 1. Index files, read from the repository itself (not the cache).
        var packs: [ObjectID: [BlobLocation]] = [:]
        var packSizes: [ObjectID: UInt64] = [:]
        // Blobs a restore cannot use: those failing authentication, and every blob of a pack
        // that is missing, resized or whose header is damaged.
        var unusable = Set<BlobID>()
        func condemn(_ pack: ObjectID) {
            report.damagedPacks.insert(pack.hex)
            for location in packs[pack] ?? [] { unusable.insert(location.id) }
        }
        var known = Set<BlobKey>()
        let indexEntries = try backend.list(.index)
        for entry in indexEntries {
            let name = ObjectName(.index, entry.name)
            do {
                let file = try loadJSON(IndexFile.self, name, associatedData: IndexFile.associatedData)
                for pack in file.packs { if let id = ObjectID(hex: pack.id) { packSizes[id] = pack.size } }
                for location in try file.locations(context: name.path) {
                    packs[location.pack, default: []].append(location)
                    known.insert(BlobKey(type: location.type, id: location.id))
                }
                report.indexFiles += 1
            } catch {
                report.errors.append("\(error)")  // names the index file
            }
        }
        report.blobs = known.count

        // 2. Packs: every indexed pack exists and its header agrees with the index.
        let stored = Dictionary(
            try backend.list(.data).map { ($0.name, $0.size) }, uniquingKeysWith: { first, _ in first })
        for (pack, _) in stored where ObjectID(hex: pack).map({ packs[$0] == nil }) ?? true {
            report.warnings.append(
                "pack \(pack) is not referenced by any index (left by an interrupted backup; the next backup adopts it)")
        }
        let ordered = packs.keys.sorted()
        for (number, pack) in ordered.enumerated() {
            progress?(CheckProgress(phase: readData ? "reading packs" : "checking packs", done: number, total: ordered.count))
            report.packs += 1
            let name = ObjectName(.data, pack.hex)
            guard let size = stored[pack.hex] else {
                report.errors.append("pack \(pack.hex) is referenced by the index but missing from \(name.path)")
                condemn(pack)
                continue
            }
            let locations = packs[pack] ?? []
            if let expected = packSizes[pack], expected != UInt64(size) {
                report.errors.append(
                    "pack \(pack.hex) has \(size) bytes but the index records \(expected): damaged (appended to or truncated)")
                condemn(pack)
            }
            do {
                let bytes: [UInt8]
                if readData {
                    bytes = try backend.load(name)
                    report.bytesRead += UInt64(bytes.count)
                    if ObjectID(digest: SHA256.hash(bytes)) != pack {
                        report.errors.append("pack \(pack.hex): content does not match its ID (damaged: bytes changed, added or lost)")
                        report.damagedPacks.insert(pack.hex)
                    }
                } else {
                    bytes = try loadTrailer(name, size: size)
                }
                let header = try PackFormat.parseTrailer(
                    bytes, packSize: size, key: keys.encryption, context: "pack \(pack.hex)")
                let headerSet = Set(header.map { "\($0.type.rawValue):\($0.id.hex):\($0.offset):\($0.length)" })
                for location in locations
                where !headerSet.contains("\(location.type.rawValue):\(location.id.hex):\(location.offset):\(location.length)") {
                    report.errors.append("pack \(pack.hex): index entry for blob \(location.id.hex) does not match the pack header")
                    condemn(pack)
                }
                if readData {
                    for location in locations {
                        let end = Int(location.offset) + Int(location.length)
                        guard end <= bytes.count else { continue }
                        do {
                            _ = try decodeBlob(Array(bytes[Int(location.offset)..<end]), location: location)
                        } catch {
                            report.errors.append("pack \(pack.hex): \(error)")
                            report.damagedPacks.insert(pack.hex)
                            unusable.insert(location.id)
                        }
                    }
                }
            } catch {
                report.errors.append("pack \(pack.hex): \(error)")
                condemn(pack)
            }
        }

        // 3. Snapshots and every tree they reach: each referenced blob is indexed, and the
        // files whose data is unusable are named (the others restore intact).
        let snapshotRecords = try snapshots { id, error in
            report.errors.append("\(error)")  // names the snapshot object
            if (error as? RepositoryError)?.code == .damaged { report.damagedSnapshots.insert(id) }
        }
        var visited = Set<BlobID>()
        for record in snapshotRecords {
            report.snapshots += 1
            guard let root = record.snapshot.treeID else {
                report.errors.append("snapshot \(record.id.hex): bad tree ID")
                continue
            }
            var stack: [(BlobID, String)] = [(root, "/")]
            while let (treeID, path) = stack.popLast() {
                guard visited.insert(treeID).inserted else { continue }
                guard known.contains(BlobKey(type: .tree, id: treeID)) else {
                    report.errors.append("snapshot \(record.id.shortHex): tree \(treeID.hex) of \(path) is missing")
                    continue
                }
                let tree: Tree
                do {
                    tree = try loadTree(treeID)
                    report.trees += 1
                } catch {
                    report.errors.append("snapshot \(record.id.shortHex): tree of \(path): \(error)")
                    continue
                }
                for node in tree.nodes {
                    let child = path + (path.hasSuffix("/") ? "" : "/") + String(decoding: node.name, as: UTF8.self)
                    // One line per file, not per blob: a lost index file can make thousands
                    // of blobs unindexed at once.
                    let missing = node.content.filter { !known.contains(BlobKey(type: .data, id: $0)) }
                    if let first = missing.first {
                        report.errors.append(
                            "snapshot \(record.id.shortHex): \(child): "
                                + (missing.count == 1
                                    ? "data blob \(first.hex) is missing"
                                    : "\(missing.count) of its \(node.content.count) data blobs are missing (the first is \(first.hex))"))
                    }
                    if node.content.contains(where: unusable.contains) {
                        report.errors.append(
                            "snapshot \(record.id.shortHex): \(child) has data in a damaged pack and cannot be restored")
                    }
                    if let subtree = node.subtree { stack.append((subtree, child)) }
                }
            }
        }
        progress?(CheckProgress(phase: "done", done: ordered.count, total: ordered.count))
        return report
    }

    private func loadTrailer(_ name: ObjectName, size: Int) throws -> [UInt8] {
        guard size >= 4 else { throw FormatError("\(name.path): too short to be a pack (\(size) bytes)") }
        let length = PackFormat.trailerLength(lastFourBytes: try backend.load(name, offset: size - 4, length: 4))
        guard length <= size else { throw FormatError("\(name.path): bad header length \(length - 4)") }
        return try backend.load(name, offset: size - length, length: length)
    }
}
