import Foundation
import LifeboatFiles
import LifeboatRepository
import LifeboatSystem

/// The table of commands: which options each takes, and the function that runs it.
enum Commands {
    struct Spec: Sendable {
        /// What `lifeboat COMMAND --help` prints.
        var help: String
        var valued: Set<String> = []
        var switches: Set<String> = []
        var aliases: [Character: String] = [:]
        var run: @Sendable (Context) throws -> ExitCode
    }

    static let specs: [String: Spec] = [
        "init": Spec(
            help: """
                Usage: lifeboat init
                Creates a repository at --repo (or LIFEBOAT_REPOSITORY); refuses an existing one.
                """, run: initialize),
        "backup": Spec(
            help: """
                Usage: lifeboat backup [options] PATH...
                  --force                     read every file again (ignore the parent snapshot)
                  --parent SNAPSHOT           compare with this snapshot instead of the latest of these paths
                  --tag TAG                   label the snapshot (repeatable)
                  --exclude PATTERN           skip absolute paths matching a glob (repeatable)
                  --cross-filesystems         descend into other mounted file systems
                  --host NAME                 record this host name
                  --changed-paths-from FILE   re-read only the absolute paths listed (one per line)
                  --threads N                 read with N threads and compress with N more
                                              (default: one each per core, at most 8)
                """,
            valued: ["parent", "tag", "exclude", "changed-paths-from", "host", "threads"],
            switches: ["force", "cross-filesystems"], run: backup),
        "snapshots": Spec(help: "Usage: lifeboat snapshots [--json]\nLists the snapshots, oldest first.", run: snapshots),
        "ls": Spec(
            help: "Usage: lifeboat ls SNAPSHOT [PATH] [-l|--long] [--json]\nLists a snapshot's entries under PATH, one per line, unprintable bytes escaped.",
            switches: ["long"], aliases: ["l": "long"], run: list),
        "restore": Spec(
            help: """
                Usage: lifeboat restore SNAPSHOT --target DIR [--include PATH]... [--owner-names] [--threads N]
                Re-creates the snapshot's absolute paths under DIR; --include limits it to paths
                (and their subtrees); --owner-names maps owners by recorded name, not numeric ID;
                --threads N writes with N threads (default: one per core, at most 8).
                """,
            valued: ["target", "include", "threads"], switches: ["owner-names"], run: restore),
        "check": Spec(
            help: "Usage: lifeboat check [--read-data] [--json]\nVerifies structure; with --read-data, every byte.",
            switches: ["read-data"], run: check),
        "repair": Spec(
            help: """
                Usage: lifeboat repair [--json]
                Reads every pack (as check --read-data does) and takes the damaged or missing ones
                out: their intact blobs are stored again in new packs, the rest is reported lost.
                Then `lifeboat backup --force PATH...` stores lost data again if the files still exist.
                """, run: repair),
        "key": Spec(
            help: "Usage: lifeboat key list | lifeboat key add [--new-password-file FILE]",
            valued: ["new-password-file"], run: key),
        "version": Spec(help: "Usage: lifeboat version", run: { _ in
            Terminal.print("lifeboat \(LifeboatCLI.version)")
            return .success
        }),
    ]

    // MARK: init

    static func initialize(_ context: Context) throws -> ExitCode {
        guard context.arguments.positionals.isEmpty else { throw UsageError("init takes no arguments") }
        let backend = try context.backend
        if let existing = try? FileManager.default.contentsOfDirectory(atPath: backend.location), !existing.isEmpty,
            !existing.contains("config"), !context.quiet
        {
            Terminal.error("note: \(backend.location) is not empty; the repository's files are created beside what is there")
        }
        let repository = try Repository.initialize(
            backend: backend, passphrase: try context.passphrase(confirm: true), cache: try context.cache)
        if context.json {
            Output.json(["id": repository.config.id, "location": backend.location, "key": repository.keyID])
        } else if !context.quiet {
            Terminal.print("created repository \(repository.config.id.prefix(10)) at \(backend.location)")
            Terminal.print("keep the passphrase safe: without it the data cannot be recovered")
        }
        return .success
    }

    // MARK: snapshots

    static func snapshots(_ context: Context) throws -> ExitCode {
        guard context.arguments.positionals.isEmpty else { throw UsageError("snapshots takes no arguments") }
        let repository = try context.openRepository()
        var damaged: [String] = []
        let records = try repository.snapshots { _, error in damaged.append("\(error)") }
        if context.json {
            Output.json(records.map(Output.snapshotObject))
        } else {
            Terminal.print(Output.snapshotTable(records))
        }
        for problem in damaged {
            Terminal.error("lifeboat: \(problem); `lifeboat repair` removes a damaged snapshot")
        }
        return damaged.isEmpty ? .success : .failure
    }

    // MARK: ls

    static func list(_ context: Context) throws -> ExitCode {
        let positionals = context.arguments.positionals
        guard let reference = positionals.first, positionals.count <= 2 else {
            throw UsageError("usage: lifeboat ls SNAPSHOT [PATH]")
        }
        let repository = try context.openRepository()
        let record = try repository.findSnapshot(reference)
        guard let root = record.snapshot.treeID else {
            throw CommandError(.failure, "snapshot \(record.id.shortHex) has a damaged tree ID")
        }
        let start = positionals.count == 2 ? Paths.components(context.arguments.rawPositionals[1]) : []
        var lines = TreeListing(repository: repository, long: context.arguments.flag("long"), json: context.json)
        try lines.list(root: root, under: start)
        if context.json { Terminal.print("]") }
        return .success
    }

    // MARK: restore

    static func restore(_ context: Context) throws -> ExitCode {
        guard let reference = context.arguments.positionals.first, context.arguments.positionals.count == 1 else {
            throw UsageError("usage: lifeboat restore SNAPSHOT --target DIR [--include PATH]...")
        }
        guard let target = context.arguments.value("target") else {
            throw UsageError("restore needs --target DIR (the snapshot's paths are re-created under it)")
        }
        let threads = try context.threads
        let repository = try context.openRepository()
        let record = try repository.findSnapshot(reference)
        guard let root = record.snapshot.treeID else {
            throw CommandError(.failure, "snapshot \(record.id.shortHex) has a damaged tree ID")
        }
        var options = RestoreOptions(target: target)
        if let threads { options.threads = threads }
        options.rawIncludes = context.arguments.rawValues("include").map(Paths.absolute)
        for include in options.rawIncludes where try !snapshotHas(include, root: root, in: repository) {
            throw CommandError(
                .failure,
                "--include \(escapedForDisplay(include)): no such path in snapshot \(record.id.shortHex); `lifeboat ls \(record.id.shortHex)` lists it")
        }
        // Numeric IDs win unless asked: on a fresh machine the names may map to other users.
        options.numericOwners = !context.arguments.flag("owner-names")
        let progress = ProgressLine(enabled: Terminal.stderrIsTerminal && !context.quiet && !context.json)
        let started = Date()
        options.progress = { p in
            progress.update(
                "restored \(p.filesDone) files, \(Human.bytes(p.bytesDone)) of \(Human.bytes(p.bytesTotal))")
        }
        let summary = try Restorer(store: repository).restore(root: root, options: options)
        progress.finish()
        let elapsed = Date().timeIntervalSince(started)
        let errors = summary.issues.filter { !$0.isWarning }
        if context.json {
            Output.json([
                "snapshot": record.id.hex, "target": target, "files": summary.files, "directories": summary.directories,
                "others": summary.others, "bytes": summary.bytes, "seconds": elapsed,
                "issues": summary.issues.map(Output.issueObject),
            ] as [String: Any])
        } else {
            for issue in summary.issues { Terminal.error("\(issue.isWarning ? "note" : "error"): \(issue.path): \(issue.message)") }
            if !context.quiet || !errors.isEmpty { Terminal.print(
                "restored snapshot \(record.id.shortHex) to \(target): \(summary.files) files, \(summary.directories) directories, \(Human.bytes(summary.bytes)) in \(Human.duration(elapsed))"
            ) }
        }
        return errors.isEmpty ? .success : .failure
    }

    /// Whether a snapshot holds an absolute path (walking one tree per component).
    private static func snapshotHas(_ path: [UInt8], root: BlobID, in repository: Repository) throws -> Bool {
        var tree = try repository.loadTree(root)
        let components = Paths.components(path)
        for (index, component) in components.enumerated() {
            guard let node = tree.node(named: component) else { return false }
            if index == components.count - 1 { return true }
            guard let subtree = node.subtree else { return false }
            tree = try repository.loadTree(subtree)
        }
        return true
    }

    // MARK: check

    static func check(_ context: Context) throws -> ExitCode {
        guard context.arguments.positionals.isEmpty else { throw UsageError("check takes no arguments") }
        let repository = try context.openRepository()
        let progress = ProgressLine(enabled: Terminal.stderrIsTerminal && !context.quiet && !context.json)
        let report = try repository.check(readData: context.arguments.flag("read-data")) { p in
            progress.update("check: \(p.phase) \(p.done)/\(p.total)")
        }
        progress.finish()
        if context.json {
            Output.json([
                "clean": report.isClean, "errors": report.errors, "warnings": report.warnings,
                "snapshots": report.snapshots, "packs": report.packs, "blobs": report.blobs, "trees": report.trees,
                "bytes_read": report.bytesRead, "damaged_packs": report.damagedPacks.sorted(),
            ] as [String: Any])
        } else {
            for warning in report.warnings { Terminal.error("warning: \(warning)") }
            for error in report.errors { Terminal.error("error: \(error)") }
            let what = [
                Human.count(report.snapshots, "snapshot"), Human.count(report.trees, "tree"),
                Human.count(report.packs, "pack"), Human.count(report.blobs, "blob"),
            ].joined(separator: ", ")
            if report.isClean {
                if !context.quiet {
                    Terminal.print("no errors found (\(what)\(report.bytesRead > 0 ? ", \(Human.bytes(report.bytesRead)) read" : ""))")
                }
            } else {
                let next = report.damagedPacks.isEmpty && report.warnings.isEmpty && report.damagedSnapshots.isEmpty
                    ? "run `lifeboat backup --force PATH...` to store the missing data again"
                    : "run `lifeboat repair` to take the damaged packs and snapshots out (and index unindexed packs), then "
                        + "`lifeboat backup --force PATH...` to store the lost data again"
                Terminal.print(
                    "\(Human.count(report.errors.count, "error")) found (\(what)); restore what is intact; \(next)")
            }
        }
        return report.isClean ? .success : .failure
    }

    // MARK: repair

    static func repair(_ context: Context) throws -> ExitCode {
        guard context.arguments.positionals.isEmpty else { throw UsageError("repair takes no arguments") }
        let repository = try context.openRepository()
        let lock = try InterruptibleLock(repository, exclusive: true)
        defer { lock.release() }
        let progress = ProgressLine(enabled: Terminal.stderrIsTerminal && !context.quiet && !context.json)
        let found = try repository.check(readData: true) { p in progress.update("repair: \(p.phase) \(p.done)/\(p.total)") }
        progress.finish()
        let damaged = Set(found.damagedPacks.compactMap(ObjectID.init(hex:)))
        var report = try repository.repairPacks(damaged)
        report.snapshotsRemoved = try repository.removeDamagedSnapshots(found.damagedSnapshots)
        if context.json {
            Output.json([
                "packs_removed": report.packsRemoved, "blobs_salvaged": report.blobsSalvaged,
                "blobs_lost": report.blobsLost, "index_files_rewritten": report.indexFilesRewritten,
                "index_files_removed": report.indexFilesRemoved, "packs_reindexed": report.packsReindexed,
                "snapshots_removed": report.snapshotsRemoved,
            ] as [String: Any])
        } else if !report.changedAnything {
            if !context.quiet { Terminal.print("nothing to repair: every index file and pack reads back intact") }
        } else {
            for pack in report.packsRemoved { Terminal.error("removed damaged pack \(pack)") }
            for file in report.indexFilesRemoved { Terminal.error("removed unreadable index file \(file)") }
            for snapshot in report.snapshotsRemoved {
                Terminal.error("removed unreadable snapshot \(snapshot) (its files' data stays in the repository)")
            }
            Terminal.print(
                "repaired: \(Human.count(report.packsRemoved.count, "pack")) removed, "
                    + "\(Human.count(report.blobsSalvaged, "intact blob")) stored again, "
                    + "\(Human.count(report.packsReindexed, "pack")) indexed again, \(Human.count(report.blobsLost, "blob")) lost"
                    + (report.snapshotsRemoved.isEmpty ? "" : ", \(Human.count(report.snapshotsRemoved.count, "damaged snapshot")) removed")
                    + (report.blobsLost > 0
                        ? "; run `lifeboat backup --force PATH...` to store them again, then `lifeboat check`" : ""))
        }
        return .success
    }

    // MARK: key

    static func key(_ context: Context) throws -> ExitCode {
        let positionals = context.arguments.positionals
        switch positionals.first {
        case "list":
            let repository = try context.openRepository()
            let keys = try repository.listKeys()
            if context.json {
                Output.json(keys.map {
                    ["id": $0.id, "created": $0.created, "host": $0.host, "username": $0.username, "current": $0.isCurrent]
                        as [String: Any]
                })
            } else {
                for key in keys {
                    Terminal.print("\(key.isCurrent ? "*" : " ") \(key.id.prefix(12))  \(key.created.prefix(19))  \(key.username)@\(key.host)")
                }
            }
            return .success
        case "add":
            let repository = try context.openRepository()
            let newPassphrase: [UInt8]
            if let file = context.arguments.value("new-password-file") {
                guard let data = FileManager.default.contents(atPath: file), !data.isEmpty else {
                    throw CommandError(.failure, "cannot read the new password file \(file)")
                }
                var bytes = [UInt8](data)
                while bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
                newPassphrase = bytes
            } else {
                guard Terminal.stdinIsTerminal, let first = Terminal.readSecret(prompt: "new passphrase: "), !first.isEmpty,
                    Terminal.readSecret(prompt: "new passphrase again: ") == first
                else {
                    throw CommandError(.failure, "give the new passphrase with --new-password-file FILE or on a terminal (twice)")
                }
                newPassphrase = Array(first.utf8)
            }
            let id = try repository.addKey(passphrase: newPassphrase)
            if context.json { Output.json(["id": id]) } else { Terminal.print("added key \(id.prefix(12))") }
            return .success
        default:
            throw UsageError("usage: lifeboat key list | lifeboat key add [--new-password-file FILE]")
        }
    }
}
