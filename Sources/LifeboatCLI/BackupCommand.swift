import Foundation
import LifeboatFiles
import LifeboatRepository
import LifeboatSystem

extension Commands {
    /// `lifeboat backup PATH...`: the main job.
    static func backup(_ context: Context) throws -> ExitCode {
        var seen = Set<[UInt8]>()
        // A path given twice is backed up (and recorded) once.
        let rawPaths = context.arguments.rawPositionals.map(Paths.resolvingParents).filter { seen.insert($0).inserted }
        guard !rawPaths.isEmpty else { throw UsageError("usage: lifeboat backup PATH... (what to back up)") }
        // The snapshot records paths as text (escaped where not UTF-8); the walk uses the bytes.
        let paths = rawPaths.map { escapedForDisplay($0) }
        let threads = try context.threads  // bad input fails before the passphrase is tried
        let repository = try context.openRepository()
        let lock = try InterruptibleLock(repository, exclusive: false)
        defer { lock.release() }
        // Blobs of packs that an interrupted backup wrote but did not index are reused; those
        // of packs that are gone are stored again.
        let packs = try repository.reconcilePacks(forgetMissing: true)
        if packs.adopted > 0 && !context.quiet && !context.json {
            Terminal.error("reusing \(packs.adopted) packs left by an interrupted backup")
        }
        for pack in packs.missing {
            Terminal.error(
                "warning: pack \(pack.hex) is in the index but missing from the repository; this backup stores its data again where the files still exist; run `lifeboat repair` to take it out of the index")
        }

        let host = context.arguments.value("host") ?? ProcessInfo.processInfo.hostName
        let parent = try chooseParent(repository, context: context, host: host, paths: paths)
        var options = BackupOptions(paths: [])
        options.rawPaths = rawPaths
        options.force = context.arguments.flag("force")
        if let threads { options.threads = threads }
        options.crossFilesystems = context.arguments.flag("cross-filesystems")
        options.excludes = context.arguments.values("exclude")
        options.parentRoot = parent?.snapshot.treeID
        if let file = context.arguments.value("changed-paths-from") {
            guard parent != nil else {
                throw CommandError(.failure, "--changed-paths-from needs a parent snapshot of the same paths")
            }
            options.rawChangedPaths = try changedPaths(file)
        }
        let progress = ProgressLine(enabled: Terminal.stderrIsTerminal && !context.quiet && !context.json)
        let started = Date()
        // A first backup reads everything: count it alongside, for a percentage and an ETA.
        let estimate = SizeEstimate()
        if progress.enabled && parent == nil { estimate.start(paths: paths, crossFilesystems: options.crossFilesystems) }
        defer { estimate.cancel() }
        options.progress = { p in
            var p = p
            let totals = estimate.totals
            if p.bytesTotal == nil, totals.complete, parent == nil {
                p.bytesTotal = max(totals.bytes, p.bytesDone)
                p.filesTotal = totals.files
            }
            progress.update(Output.backupProgress(p, started: started))
        }

        let summary: BackupSummary
        do {
            summary = try Archiver(store: repository).backup(options)
            try repository.flush()
        } catch {
            repository.discardOpenPacks()
            throw error
        }
        progress.finish()

        var totals = Snapshot.Totals()
        totals.files = summary.filesNew + summary.filesChanged + summary.filesUnchanged
        totals.directories = summary.directories
        totals.bytes = summary.totalSize
        totals.bytesAdded = repository.writeStatistics.bytesAdded
        let snapshot = Snapshot(
            host: host, username: ProcessInfo.processInfo.environment["USER"] ?? "", paths: paths,
            tree: summary.root, parent: parent?.id, tags: context.arguments.values("tag"), totals: totals,
            program: "lifeboat \(LifeboatCLI.version)")
        let id = try repository.saveSnapshot(snapshot)
        let elapsed = Date().timeIntervalSince(started)
        let errors = summary.issues.filter { !$0.isWarning }

        if context.json {
            Output.json(Output.backupObject(summary, snapshot: id, parent: parent?.id, seconds: elapsed,
                bytesAdded: totals.bytesAdded))
        } else {
            for issue in summary.issues {
                Terminal.error("\(issue.isWarning ? "warning" : "error"): \(issue.path): \(issue.message)")
            }
            if !context.quiet {
                Terminal.print(Output.backupSummary(summary, snapshot: id, parent: parent?.id, seconds: elapsed,
                    bytesAdded: totals.bytesAdded))
                if !errors.isEmpty {
                    Terminal.print("\(Human.count(errors.count, "entry", "entries")) could not be read (listed above); the snapshot holds everything else")
                }
                let warnings = summary.issues.count - errors.count
                if warnings > 0 {
                    Terminal.print("\(Human.count(warnings, "entry", "entries")) changed or vanished while read (listed above); the snapshot holds what was read")
                }
            }
        }
        // Exit 3: the snapshot exists but is not a clean copy of everything (each entry named).
        return summary.issues.isEmpty ? .success : .partial
    }

    /// The parent is the newest snapshot of the same host and paths, unless --parent names one.
    private static func chooseParent(
        _ repository: Repository, context: Context, host: String, paths: [String]
    ) throws -> SnapshotRecord? {
        if let reference = context.arguments.value("parent") { return try repository.findSnapshot(reference) }
        let wanted = paths.sorted()
        return try repository.snapshots().last {
            $0.snapshot.host == host && $0.snapshot.paths.sorted() == wanted && $0.snapshot.kind == "files"
        }
    }

    /// Reads a list of changed absolute paths, one per line (what the daemon's journal gives).
    private static func changedPaths(_ file: String) throws -> Set<[UInt8]> {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CommandError(.failure, "cannot read the changed-paths file \(file)")
        }
        return Set([UInt8](data).split(separator: UInt8(ascii: "\n")).map { Paths.absolute(Array($0)) })
    }
}

/// Path handling for command-line arguments: made absolute and normalised lexically, so the
/// snapshot records what the user meant without resolving symlinks.
enum Paths {
    static func absolute(_ path: [UInt8]) -> [UInt8] {
        let slash = UInt8(ascii: "/")
        let base = path.first == slash ? path : Array(FileManager.default.currentDirectoryPath.utf8) + [slash] + path
        var parts: [ArraySlice<UInt8>] = []
        for part in base.split(separator: slash) {
            switch part {
            case [UInt8(ascii: ".")]: continue
            case [UInt8(ascii: "."), UInt8(ascii: ".")]: if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return [slash] + Array(parts.joined(separator: [slash]))
    }

    static func absolute(_ path: String) -> String {
        String(decoding: absolute(Array(path.utf8)), as: UTF8.self)
    }

    /// The absolute path with its parent directories' symlinks resolved, as the archiver stores
    /// it (the last component is kept: a symlink given as a path is stored as a link). The
    /// snapshot then records the path its tree holds. Unresolvable parents are left as given;
    /// the archiver reports them.
    static func resolvingParents(_ path: [UInt8]) -> [UInt8] {
        let absolute = absolute(path)
        guard let slash = absolute.lastIndex(of: UInt8(ascii: "/")), slash > 0 else { return absolute }
        let parent = Array(absolute[..<slash])
        guard let resolved = (parent + [0]).withUnsafeBufferPointer({ buffer -> [UInt8]? in
            guard let base = buffer.baseAddress,
                let real = base.withMemoryRebound(to: CChar.self, capacity: buffer.count, { realpath($0, nil) })
            else { return nil }
            defer { free(real) }
            return Array(UnsafeBufferPointer(start: real, count: strlen(real))).map { UInt8(bitPattern: $0) }
        }) else { return absolute }
        return (resolved == [UInt8(ascii: "/")] ? [] : resolved) + Array(absolute[slash...])
    }

    static func components(_ path: [UInt8]) -> [[UInt8]] {
        absolute(path).split(separator: UInt8(ascii: "/")).map(Array.init)
    }
}
