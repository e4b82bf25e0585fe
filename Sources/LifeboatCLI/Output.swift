import Foundation
import LifeboatFiles
import LifeboatRepository
import LifeboatSystem

/// Human and JSON renderings of command results. JSON goes to stdout, one document per command.
enum Output {
    static func json(_ value: Any) {
        guard JSONSerialization.isValidJSONObject(value),
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
        else {
            Terminal.error("lifeboat: internal error: result is not JSON-encodable")
            return
        }
        Terminal.print(String(decoding: data, as: UTF8.self))
    }

    static func snapshotObject(_ record: SnapshotRecord) -> [String: Any] {
        let s = record.snapshot
        var object: [String: Any] = [
            "id": record.id.hex, "short_id": record.id.shortHex, "time": s.time, "host": s.host,
            "username": s.username, "paths": s.paths, "tree": s.tree, "kind": s.kind, "tags": s.tags,
            "totals": [
                "files": s.totals.files, "directories": s.totals.directories, "bytes": s.totals.bytes,
                "bytes_added": s.totals.bytesAdded,
            ],
        ]
        if let parent = s.parent { object["parent"] = parent }
        return object
    }

    static func snapshotTable(_ records: [SnapshotRecord]) -> String {
        guard !records.isEmpty else { return "no snapshots yet; `lifeboat backup PATH` makes one" }
        var lines = ["ID        Time                 Host                 Size        Paths"]
        for record in records {
            let s = record.snapshot
            let time = s.time.prefix(19).replacingOccurrences(of: "T", with: " ")
            lines.append(
                "\(record.id.shortHex)  \(time)  \(pad(s.host, 19))  \(pad(Human.bytes(s.totals.bytes), 10))  \(s.paths.joined(separator: ", "))"
            )
        }
        lines.append(records.count == 1 ? "1 snapshot" : "\(records.count) snapshots")
        return lines.joined(separator: "\n")
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func issueObject(_ issue: BackupIssue) -> [String: Any] {
        ["path": issue.path, "message": issue.message, "warning": issue.isWarning]
    }

    static func backupProgress(_ p: BackupProgress, started: Date) -> String {
        let elapsed = max(Date().timeIntervalSince(started), 0.001)
        let rate = Double(p.bytesDone) / elapsed
        let files = p.filesTotal.map { "\(p.filesDone) of \($0) files" } ?? "\(p.filesDone) files"
        var line = "[\(Human.duration(elapsed))] \(files), \(Human.bytes(p.bytesDone))"
        if let total = p.bytesTotal, total > 0 {
            let percent = min(100, Double(p.bytesDone) * 100 / Double(total))
            line += String(format: " (%.0f%% of %@)", percent, Human.bytes(total))
            if rate > 0, total > p.bytesDone { line += ", ETA \(Human.duration(Double(total - p.bytesDone) / rate))" }
        }
        line += ", \(Human.bytes(UInt64(rate)))/s  \(p.currentPath)"
        return line
    }

    static func backupSummary(
        _ s: BackupSummary, snapshot: ObjectID, parent: ObjectID?, seconds: Double, bytesAdded: UInt64
    ) -> String {
        """
        files: \(s.filesNew) new, \(s.filesChanged) changed, \(s.filesUnchanged) unchanged; \(s.directories) directories, \(s.others) other entries
        read \(Human.bytes(s.bytesRead)) of \(Human.bytes(s.totalSize)); added \(Human.bytes(bytesAdded)) to the repository (after dedup and compression)
        snapshot \(snapshot.shortHex) saved\(parent.map { " (parent \($0.shortHex))" } ?? "") in \(Human.duration(seconds))
        """
    }

    static func backupObject(
        _ s: BackupSummary, snapshot: ObjectID, parent: ObjectID?, seconds: Double, bytesAdded: UInt64
    ) -> [String: Any] {
        var object: [String: Any] = [
            "snapshot": snapshot.hex, "files_new": s.filesNew, "files_changed": s.filesChanged,
            "files_unchanged": s.filesUnchanged, "directories": s.directories, "others": s.others,
            "bytes_read": s.bytesRead, "total_size": s.totalSize, "bytes_added": bytesAdded, "seconds": seconds,
            "issues": s.issues.map(issueObject),
        ]
        if let parent { object["parent"] = parent.hex }
        return object
    }
}

/// `lifeboat ls`: walks a snapshot's trees depth first without recursion, one entry per line.
struct TreeListing {
    let repository: Repository
    let long: Bool
    let json: Bool
    private var first = true

    init(repository: Repository, long: Bool, json: Bool) {
        self.repository = repository
        self.long = long
        self.json = json
    }

    mutating func list(root: BlobID, under start: [[UInt8]]) throws {
        var treeID = root
        var prefix: [UInt8] = []
        if json { Terminal.write("[") }
        for (index, component) in start.enumerated() {
            let tree = try repository.loadTree(treeID)
            guard let node = tree.node(named: component) else {
                throw CommandError(.failure, "the snapshot has no \(escapedForDisplay(prefix + [UInt8(ascii: "/")] + component))")
            }
            prefix += [UInt8(ascii: "/")] + component
            if index == start.count - 1 { emit(node, path: prefix) }
            guard let subtree = node.subtree else { return }
            treeID = subtree
        }
        var stack: [(BlobID, [UInt8])] = [(treeID, prefix)]
        while let (id, path) = stack.popLast() {
            let tree = try repository.loadTree(id)
            // Push subdirectories in reverse so the listing comes out in name order.
            var children: [(BlobID, [UInt8])] = []
            for node in tree.nodes {
                let childPath = path + [UInt8(ascii: "/")] + node.name
                emit(node, path: childPath)
                if let subtree = node.subtree { children.append((subtree, childPath)) }
            }
            stack.append(contentsOf: children.reversed())
        }
    }

    private mutating func emit(_ node: Node, path: [UInt8]) {
        if json {
            var object: [String: Any] = [
                "path": escapedForDisplay(path), "path_base64": Data(path).base64EncodedString(),
                "type": Self.typeName(node.kind), "mode": node.mode, "uid": node.uid, "gid": node.gid,
                "size": node.size, "mtime": "\(node.mtime.seconds).\(String(format: "%09u", node.mtime.nanoseconds))",
            ]
            if node.kind == .symlink { object["link_target_base64"] = Data(node.linkTarget).base64EncodedString() }
            guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
            Terminal.write((first ? "" : ",\n") + String(decoding: data, as: UTF8.self))
            first = false
            return
        }
        let display = escapedForDisplay(path)
        guard long else { return Terminal.print(display) }
        let target = node.kind == .symlink ? " -> " + escapedForDisplay(node.linkTarget) : ""
        Terminal.print("\(Self.modeString(node))  \(node.uid)/\(node.gid)  \(String(format: "%12llu", node.size))  \(display)\(target)")
    }

    static func typeName(_ kind: Node.Kind) -> String {
        switch kind {
        case .file: return "file"
        case .directory: return "dir"
        case .symlink: return "symlink"
        case .fifo: return "fifo"
        case .characterDevice: return "chardev"
        case .blockDevice: return "blockdev"
        case .socket: return "socket"
        }
    }

    static func modeString(_ node: Node) -> String {
        let typeLetter: Character = switch node.kind {
        case .file: "-"
        case .directory: "d"
        case .symlink: "l"
        case .fifo: "p"
        case .characterDevice: "c"
        case .blockDevice: "b"
        case .socket: "s"
        }
        var out = [typeLetter]
        let letters: [Character] = ["r", "w", "x"]
        for shift in stride(from: 6, through: 0, by: -3) {
            for bit in 0..<3 {
                out.append(node.mode & (1 << UInt32(shift + 2 - bit)) != 0 ? letters[bit] : "-")
            }
        }
        if node.mode & 0o4000 != 0 { out[3] = out[3] == "x" ? "s" : "S" }
        if node.mode & 0o2000 != 0 { out[6] = out[6] == "x" ? "s" : "S" }
        if node.mode & 0o1000 != 0 { out[9] = out[9] == "x" ? "t" : "T" }
        return String(out)
    }
}
