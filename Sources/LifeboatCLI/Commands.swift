import Foundation
import LifeboatFiles
import LifeboatRepository
import LifeboatSystem

/// The table of commands: which options each takes, and the function that runs it.
enum Commands {
    struct Spec: Sendable {
        var valued: Set<String> = []
        var switches: Set<String> = []
        var aliases: [Character: String] = [:]
        var run: @Sendable (Context) throws -> ExitCode
    }

    static let specs: [String: Spec] = [
        "init": Spec(run: initialize),
        "backup": Spec(
            valued: ["parent", "tag", "exclude", "changed-paths-from", "host"],
            switches: ["force", "cross-filesystems"], run: backup),
        "snapshots": Spec(run: snapshots),
        "ls": Spec(switches: ["long"], aliases: ["l": "long"], run: list),
        "restore": Spec(valued: ["target", "include"], switches: ["owner-names"], run: restore),
        "check": Spec(switches: ["read-data"], run: check),
        "key": Spec(valued: ["new-password-file"], run: key),
        "version": Spec(run: { _ in
            Terminal.print("lifeboat \(LifeboatCLI.version)")
            return .success
        }),
    ]

    // MARK: init

    static func initialize(_ context: Context) throws -> ExitCode {
        guard context.arguments.positionals.isEmpty else { throw UsageError("init takes no arguments") }
        let backend = try context.backend
        let repository = try Repository.initialize(
            backend: backend, passphrase: try context.passphrase(confirm: true), cache: context.cache)
        if context.json {
            Output.json(["id": repository.config.id, "location": backend.location, "key": repository.keyID])
        } else {
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
        let records = try repository.snapshots { name, error in damaged.append("\(name): \(error)") }
        if context.json {
            Output.json(records.map(Output.snapshotObject))
        } else {
            Terminal.print(Output.snapshotTable(records))
        }
        for problem in damaged { Terminal.error("lifeboat: damaged snapshot \(problem)") }
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
        let repository = try context.openRepository()
        let record = try repository.findSnapshot(reference)
        guard let root = record.snapshot.treeID else {
            throw CommandError(.failure, "snapshot \(record.id.shortHex) has a damaged tree ID")
        }
        var options = RestoreOptions(target: target)
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
            let what = "\(report.snapshots) snapshots, \(report.trees) trees, \(report.packs) packs, \(report.blobs) blobs"
            if report.isClean {
                Terminal.print("no errors found (\(what)\(report.bytesRead > 0 ? ", \(Human.bytes(report.bytesRead)) read" : ""))")
            } else {
                Terminal.print(
                    "\(report.errors.count) errors found (\(what)); restore what is intact, and run a new backup to store damaged data again")
            }
        }
        return report.isClean ? .success : .failure
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
