import Dispatch
import Foundation
import Glibc
import LifeboatRepository
import LifeboatSystem
import Synchronization

/// Restores snapshot trees under a target directory: descriptors all the way down (never a
/// symlink followed below the target), files written under a temporary name and renamed into
/// place, metadata in the order the kernel needs (owner, mode, xattrs, times, inode flags).
public final class Restorer: Sendable {
    let store: any BlobStore

    public init(store: any BlobStore) {
        self.store = store
    }

    /// Restores the tree `root`. Throws when the restore cannot go on (target unusable, out of
    /// space, repository unreadable); entries that failed alone are in `RestoreSummary.issues`.
    public func restore(root: BlobID, options: RestoreOptions) throws -> RestoreSummary {
        raiseOpenFileLimit()
        let run = try RestoreRun(store: store, options: options)
        return try run.execute(root: root)
    }
}

/// A restored directory whose metadata is applied once all its children are done.
final class RestoreDir: Sendable {
    let fd: FileDescriptor
    /// Nil for the target itself, which is left as it is.
    let node: Node?
    let path: [UInt8]
    let parent: RestoreDir?
    let pending = Mutex(1)

    init(fd: FileDescriptor, node: Node?, path: [UInt8], parent: RestoreDir?) {
        self.fd = fd
        self.node = node
        self.path = path
        self.parent = parent
    }
}

/// The first restored path of a hard-link group; later members link to it once it exists.
final class LinkGroup: Sendable {
    /// Components of the first path below the target.
    let components: [[UInt8]]
    let done = DispatchGroup()
    let succeeded = Mutex(false)

    init(components: [[UInt8]]) {
        self.components = components
        done.enter()
    }
}

struct LinkKey: Hashable {
    var device: UInt64
    var inode: UInt64
}

struct RestoreCounters {
    var files: UInt64 = 0
    var directories: UInt64 = 0
    var others: UInt64 = 0
    var bytes: UInt64 = 0
    var chownFailures: UInt64 = 0
    var firstChownFailure: [UInt8] = []
}

final class RestoreRun: Sendable, RunLogging {
    let store: any BlobStore
    let options: RestoreOptions
    let targetPath: [UInt8]
    let target: FileDescriptor
    let includes: Set<[UInt8]>
    let includeAncestors: Set<[UInt8]>
    let workers: WorkerPool
    /// Loads chunks of big files ahead of their writer (see `ChunkPrefetcher`).
    let loaders: WorkerPool
    let counters = Mutex(RestoreCounters())
    let log = RunLog()
    let links = Mutex<[LinkKey: LinkGroup]>([:])
    /// Immutable or append-only files with other names still to link: link(2) refuses such a
    /// file, so their flags wait until every file is restored.
    let lockedLinkSources = Mutex<[(group: LinkGroup, node: Node, path: [UInt8])]>([])
    let throttle = ProgressThrottle()
    let bytesTotal = Mutex<UInt64>(0)
    let isRoot = geteuid() == 0
    /// Wall-clock time at the start of the run, in seconds (see `removeStaleTemporaries`).
    let startedAt = Date().timeIntervalSince1970

    init(store: any BlobStore, options: RestoreOptions) throws {
        self.store = store
        self.options = options
        targetPath = PathBytes.absolute(Array(options.target.utf8))
        target = try RestoreRun.openTarget(targetPath)
        let includes = Set((options.includes.map { Array($0.utf8) } + options.rawIncludes).map {
            PathBytes.normalise([slash] + $0)
        })
        self.includes = includes.contains([slash]) ? [] : includes
        includeAncestors = Set(includes.flatMap { PathBytes.ancestors($0) })
        let threads = max(1, options.threads)
        workers = WorkerPool(name: "lifeboat-restore", threads: threads, capacity: threads * 4)
        loaders = WorkerPool(name: "lifeboat-load", threads: threads, capacity: threads * 2)
    }

    /// Opens (creating as needed, like mkdir -p) the target directory. The target's own path is
    /// the user's choice, so symlinks in it are followed; nothing below it is.
    static func openTarget(_ path: [UInt8]) throws -> FileDescriptor {
        var dir = try FileDescriptor.open([slash], flags: [.directory])
        var done = [[UInt8]]()
        for part in PathBytes.components(path) {
            done.append(part)
            do {
                dir = try dir.openAt(part, flags: [.directory])
            } catch let error as SystemError where error.errno == .ENOENT {
                do {
                    try dir.makeDirectory(part, mode: 0o755)
                } catch let error as SystemError where error.errno == .EEXIST {
                }
                do {
                    dir = try dir.openAt(part, flags: [.directory])
                } catch let error as SystemError {
                    throw SystemError("cannot open restore target", path: PathBytes.join(done), errno: error.errno)
                }
            } catch let error as SystemError {
                throw SystemError("cannot open restore target", path: PathBytes.join(done), errno: error.errno)
            }
        }
        return dir
    }

    // MARK: Issues


    /// The restored location of a snapshot path, for messages.
    func targetDisplay(_ path: [UInt8]) -> [UInt8] {
        targetPath == [slash] ? path : targetPath + path
    }

    /// Out of space (or a read-only target) ends the whole restore with one error.
    func failIfTargetFull(_ error: SystemError, path: [UInt8]) -> Bool {
        guard error.errno.isOutOfSpace || error.errno == .EROFS else { return false }
        let what = error.errno == .EROFS ? "is read-only" : "is out of space"
        fail(FilesError(
            "restore target \(what): \(escapedForDisplay(targetPath)) (\(error.errno) while writing \(escapedForDisplay(targetDisplay(path))))"))
        return true
    }

    func report() {
        guard let progress = options.progress, throttle.shouldReport() else { return }
        let snapshot = counters.withLock { $0 }
        progress(RestoreProgress(filesDone: snapshot.files, bytesDone: snapshot.bytes,
                                 bytesTotal: bytesTotal.withLock { $0 }))
    }

    // MARK: Filter

    enum Selection { case none, ancestor, all }

    func selection(_ path: [UInt8], parentSelected: Bool) -> Selection {
        if includes.isEmpty || parentSelected || includes.contains(path) { return .all }
        if includeAncestors.contains(path) { return .ancestor }
        return .none
    }

    // MARK: Run

    final class Frame {
        let dir: RestoreDir
        let tree: Tree
        var index = 0
        let path: [UInt8]
        let components: [[UInt8]]
        let selectedAll: Bool

        init(dir: RestoreDir, tree: Tree, path: [UInt8], components: [[UInt8]], selectedAll: Bool) {
            self.dir = dir
            self.tree = tree
            self.path = path
            self.components = components
            self.selectedAll = selectedAll
        }
    }

    func execute(root: BlobID) throws -> RestoreSummary {
        defer {
            workers.finish()
            loaders.finish()
        }
        let rootTree = try store.loadTree(root)
        if options.progress != nil { computeTotal(rootTree) }
        let rootDir = RestoreDir(fd: target, node: nil, path: [slash], parent: nil)
        var stack = [Frame(dir: rootDir, tree: rootTree, path: [slash], components: [],
                           selectedAll: includes.isEmpty)]
        while let frame = stack.last, !failed {
            guard frame.index < frame.tree.nodes.count else {
                stack.removeLast()
                finished(frame.dir)
                continue
            }
            let node = frame.tree.nodes[frame.index]
            frame.index += 1
            if let next = process(node, in: frame) { stack.append(next) }
            report()
        }
        workers.finish()
        applyDeferredLinkFlags()
        if let error = log.firstFailure { throw error }
        do {
            try target.syncFileSystem()
        } catch let error as SystemError {
            throw FilesError("restore target \(escapedForDisplay(targetPath)): flushing to disk failed: \(error.errno)")
        }
        let totals = counters.withLock { $0 }
        var summary = RestoreSummary()
        summary.files = totals.files
        summary.directories = totals.directories
        summary.others = totals.others
        summary.bytes = totals.bytes
        summary.issues = log.issues
        if totals.chownFailures > 0 {
            summary.issues.append(BackupIssue(
                path: escapedForDisplay(targetDisplay(totals.firstChownFailure)),
                message: "ownership not restored on \(totals.chownFailures) entries (not permitted; run as root to restore owners); setuid/setgid bits were dropped on those",
                isWarning: true))
        }
        if let progress = options.progress {
            progress(RestoreProgress(filesDone: totals.files, bytesDone: totals.bytes, bytesTotal: totals.bytes))
        }
        return summary
    }

    /// Sums the file sizes to restore (only when progress is wanted: it loads every tree).
    func computeTotal(_ root: Tree) {
        var total: UInt64 = 0
        var stack: [(Tree, [UInt8], Bool)] = [(root, [slash], includes.isEmpty)]
        while let (tree, path, all) = stack.popLast() {
            for node in tree.nodes {
                let child = PathBytes.child(path, node.name)
                let selected = selection(child, parentSelected: all)
                if selected == .none { continue }
                if node.kind == .file && selected == .all { total += node.size }
                if node.kind == .directory, let subtree = node.subtree, let sub = try? store.loadTree(subtree) {
                    stack.append((sub, child, selected == .all))
                }
            }
        }
        bytesTotal.withLock { $0 = total }
    }

    /// Restores one entry of a directory; returns a frame for a directory to descend into.
    func process(_ node: Node, in frame: Frame) -> Frame? {
        let path = PathBytes.child(frame.path, node.name)
        guard PathBytes.isValidName(node.name) else {
            error(path, "invalid name in snapshot, skipped")
            return nil
        }
        let selected = selection(path, parentSelected: frame.selectedAll)
        if selected == .none { return nil }
        if selected == .ancestor && node.kind != .directory { return nil }
        let dir = frame.dir
        switch node.kind {
        case .directory:
            return restoreDirectory(node, path: path, in: frame, selectedAll: selected == .all)
        case .file:
            dir.pending.withLock { $0 += 1 }
            var group: LinkGroup?
            var isFirst = true
            if node.linkCount > 1 {
                let key = LinkKey(device: node.device, inode: node.inode)
                let components = frame.components + [node.name]
                (group, isFirst) = links.withLock { links in
                    if let existing = links[key] { return (existing, false) }
                    let created = LinkGroup(components: components)
                    links[key] = created
                    return (created, true)
                }
            }
            workers.submit { [self, group, isFirst] in
                self.restoreFile(node, path: path, in: dir, link: group, isFirst: isFirst)
                self.finished(dir)
            }
            return nil
        case .symlink, .fifo, .characterDevice, .blockDevice:
            restoreOther(node, path: path, in: dir)
            return nil
        case .socket:
            warn(path, "socket not restored (sockets are created by the program that listens on them)")
            return nil
        }
    }

    // MARK: Directories

    func restoreDirectory(_ node: Node, path: [UInt8], in frame: Frame, selectedAll: Bool) -> Frame? {
        let parent = frame.dir
        let fd: FileDescriptor
        do {
            fd = try openOrCreateDirectory(node.name, in: parent.fd, path: path)
        } catch let error as SystemError {
            if failIfTargetFull(error, path: path) { return nil }
            self.error(path, "cannot create directory: \(error)")
            return nil
        } catch {
            self.error(path, "cannot create directory: \(error)")
            return nil
        }
        counters.withLock { $0.directories += 1 }
        var tree = Tree(nodes: [])
        if let subtree = node.subtree {
            do {
                tree = try store.loadTree(subtree)
            } catch {
                self.error(path, "cannot load directory contents from the repository: \(error)")
            }
        }
        parent.pending.withLock { $0 += 1 }
        let dir = RestoreDir(fd: fd, node: node, path: path, parent: parent)
        return Frame(dir: dir, tree: tree, path: path, components: frame.components + [node.name],
                     selectedAll: selectedAll)
    }

    /// An existing directory is reused (its locking flags cleared); anything else in the way
    /// (a symlink, a file) is removed, never followed.
    func openOrCreateDirectory(_ name: [UInt8], in parent: FileDescriptor, path: [UInt8]) throws -> FileDescriptor {
        for _ in 0..<3 {
            do {
                let fd = try parent.openAt(name, flags: [.directory, .noFollow])
                if let flags = try? fd.inodeFlags(), !flags.isDisjoint(with: .locking) {
                    try fd.setInodeFlags(flags.subtracting(.locking))
                }
                removeStaleTemporaries(in: fd)
                return fd
            } catch let error as SystemError where error.errno == .ENOENT {
                do {
                    try parent.makeDirectory(name, mode: 0o700)
                } catch let error as SystemError where error.errno == .EEXIST {
                }
            } catch let error as SystemError where error.errno == .ELOOP || error.errno == .ENOTDIR {
                try removeEntry(name, in: parent)
            }
        }
        throw SystemError("create directory", path: path, errno: .EEXIST)
    }

    /// Removes the temporary files a killed restore left in a directory this one reuses, so
    /// that a rerun leaves exactly the snapshot's entries. Only names of the temporary form
    /// changed before this run started are touched: this run's own are newer.
    func removeStaleTemporaries(in dir: FileDescriptor) {
        guard let entries = try? dir.listDirectory() else { return }
        for entry in entries where isTemporaryName(entry.name) {
            // File times lag the clock by at most a tick (a few ms): 0.1 s keeps this run's own.
            guard let status = try? dir.statusAt(entry.name), status.type == .regular,
                Double(status.ctime.seconds) + Double(status.ctime.nanoseconds) / 1e9 < startedAt - 0.1
            else { continue }
            try? dir.unlink(entry.name)
        }
    }

    /// Applies a directory's metadata once its children are done, then walks up.
    func finished(_ dir: RestoreDir) {
        var current = dir
        while true {
            let remaining = current.pending.withLock { pending -> Int in
                pending -= 1
                return pending
            }
            guard remaining == 0, !failed else { return }
            if let node = current.node {
                applyMetadata(node, target: .descriptor(current.fd), path: current.path)
            }
            guard let parent = current.parent else { return }
            current = parent
        }
    }

    // MARK: Files

    func restoreFile(_ node: Node, path: [UInt8], in dir: RestoreDir, link: LinkGroup?, isFirst: Bool) {
        var succeeded = false
        defer {
            if let link, isFirst {
                link.succeeded.withLock { $0 = succeeded }
                link.done.leave()
            }
        }
        if failed { return }
        if let link, !isFirst {
            // FIFO queue: the first member was taken by a worker before this one.
            link.done.wait()
            if link.succeeded.withLock({ $0 }) {
                do {
                    try makeLink(link, name: node.name, in: dir.fd, path: path)
                    counters.withLock { $0.files += 1 }
                    return
                } catch let error as SystemError {
                    if failIfTargetFull(error, path: path) { return }
                    warn(path, "cannot restore as a hard link (\(error.errno)); restored as a separate file")
                } catch {
                    warn(path, "cannot restore as a hard link (\(error)); restored as a separate file")
                }
            }
        }
        let temp: [UInt8]
        let fd: FileDescriptor
        do {
            (temp, fd) = try dir.fd.createTemporaryFile(mode: 0o600)
        } catch let error as SystemError {
            if !failIfTargetFull(error, path: path) { self.error(path, "cannot create file: \(error.errno)") }
            return
        } catch {
            self.error(path, "cannot create file: \(error)")
            return
        }
        do {
            try writeContent(node, to: fd, path: path)
            // The restore ends with one syncfs; writing back now overlaps the disk with the
            // rest of the restore instead of leaving it all for the end.
            if node.size >= 1 << 20 { try? fd.startWriteback() }
            applyMetadata(node, target: .descriptor(fd), path: path, skipFlags: true)
            try replace(temp, with: node.name, in: dir.fd, path: path)
        } catch {
            try? dir.fd.unlink(temp)
            if let error = error as? SystemError, failIfTargetFull(error, path: path) { return }
            if failed { return }
            self.error(path, "not restored: \(error)")
            return
        }
        if let link, !InodeFlags(rawValue: node.flags).isDisjoint(with: .locking) {
            lockedLinkSources.withLock { $0.append((link, node, path)) }
        } else {
            applyFlags(node, fd: fd, path: path)
        }
        succeeded = true
        counters.withLock {
            $0.files += 1
            $0.bytes += node.size
        }
    }

    /// Writes the chunks: back to back for a dense file, into the recorded extents (leaving the
    /// holes unwritten) for a sparse one. Nothing that failed authentication is written.
    func writeContent(_ node: Node, to fd: FileDescriptor, path: [UInt8]) throws {
        let extents = node.extents ?? (node.size > 0 ? [Extent(offset: 0, length: node.size)] : [])
        if node.extents != nil { try fd.truncate(to: node.size) }
        var extentIndex = 0
        var offsetInExtent: UInt64 = 0
        let prefetcher = node.content.count > 1
            ? ChunkPrefetcher(ids: node.content, store: store, pool: loaders, depth: options.threads * 2) : nil
        defer { prefetcher?.drain() }
        for id in node.content {
            if failed { throw FilesError("stopped") }
            let data: [UInt8]
            do {
                data = try prefetcher?.next() ?? store.load(.data, id: id)
            } catch {
                throw FilesError("cannot load data chunk \(id.shortHex) from the repository: \(error)")
            }
            var consumed = 0
            while consumed < data.count {
                guard extentIndex < extents.count else {
                    throw FilesError("snapshot content is longer than the recorded size \(node.size)")
                }
                let extent = extents[extentIndex]
                let count = min(data.count - consumed, Int(extent.length - offsetInExtent))
                try data.withUnsafeBytes { raw in
                    try fd.writeAll(UnsafeRawBufferPointer(rebasing: raw[consumed..<(consumed + count)]),
                                    at: extent.offset + offsetInExtent)
                }
                consumed += count
                offsetInExtent += UInt64(count)
                if offsetInExtent == extent.length {
                    extentIndex += 1
                    offsetInExtent = 0
                }
            }
        }
        if extentIndex < extents.count {
            throw FilesError("snapshot content is shorter than the recorded size \(node.size)")
        }
        if node.extents == nil {
            // Dense: the writes end exactly at the size; an existing temp never has more.
            if try fd.status().size != node.size { try fd.truncate(to: node.size) }
        }
    }

    /// Renames `temp` over `name`, replacing whatever is there without following it: a directory
    /// in the way is removed, immutable/append-only flags on the old entry are cleared first.
    func replace(_ temp: [UInt8], with name: [UInt8], in dir: FileDescriptor, path: [UInt8]) throws {
        for attempt in 0..<3 {
            do {
                try dir.rename(temp, to: name)
                // Renaming onto another name of the same inode does nothing; drop the temp name.
                if (try? dir.statusAt(temp)) != nil { try? dir.unlink(temp) }
                return
            } catch let error as SystemError where attempt < 2 {
                switch error.errno {
                case .EISDIR, .ENOTEMPTY, .EEXIST:
                    try removeEntry(name, in: dir)
                case .EPERM:
                    if !(try clearLockingFlags(name, in: dir)) { throw error }
                default:
                    throw error
                }
            }
        }
    }

    /// Clears immutable/append-only on an existing file or directory; false if there were none.
    func clearLockingFlags(_ name: [UInt8], in dir: FileDescriptor) throws -> Bool {
        guard let status = try? dir.statusAt(name), status.type == .regular || status.type == .directory else {
            return false
        }
        let fd = try dir.openAt(name, flags: [.noFollow, .nonBlocking, .noControllingTerminal])
        let flags = try fd.inodeFlags()
        guard !flags.isDisjoint(with: .locking) else { return false }
        try fd.setInodeFlags(flags.subtracting(.locking))
        return true
    }

    /// Removes an entry of any type; a directory with all its contents (iteratively, through
    /// descriptors, never following symlinks).
    func removeEntry(_ name: [UInt8], in parent: FileDescriptor) throws {
        let status = try parent.statusAt(name)
        if status.type != .directory {
            do {
                try parent.unlink(name)
            } catch let error as SystemError where error.errno == .EPERM {
                _ = try clearLockingFlags(name, in: parent)
                try parent.unlink(name)
            }
            return
        }
        _ = try? clearLockingFlags(name, in: parent)
        var stack: [(parent: FileDescriptor, name: [UInt8], fd: FileDescriptor, entries: [DirectoryEntry])] = []
        let fd = try parent.openAt(name, flags: [.directory, .noFollow])
        stack.append((parent, name, fd, try fd.listDirectory()))
        while !stack.isEmpty {
            let top = stack.count - 1
            guard let entry = stack[top].entries.popLast() else {
                let done = stack.removeLast()
                try done.parent.unlink(done.name, directory: true)
                continue
            }
            let dir = stack[top].fd
            let type = entry.type == .unknown ? ((try? dir.statusAt(entry.name))?.type ?? .unknown) : entry.type
            if type == .directory {
                _ = try? clearLockingFlags(entry.name, in: dir)
                let child = try dir.openAt(entry.name, flags: [.directory, .noFollow])
                stack.append((dir, entry.name, child, try child.listDirectory()))
            } else {
                do {
                    try dir.unlink(entry.name)
                } catch let error as SystemError where error.errno == .EPERM {
                    _ = try clearLockingFlags(entry.name, in: dir)
                    try dir.unlink(entry.name)
                }
            }
        }
    }

    /// Links `name` to the first restored member of a hard-link group (found again from the
    /// target through descriptors, never following symlinks).
    /// The directory holding a link group's first name, and that name (walked from the target
    /// without following symlinks).
    func firstName(of group: LinkGroup) throws -> (directory: FileDescriptor, name: [UInt8]) {
        var directory = target
        for component in group.components.dropLast() {
            directory = try directory.openAt(component, flags: [.directory, .noFollow])
        }
        guard let name = group.components.last else { throw FilesError("empty link path") }
        return (directory, name)
    }

    /// Sets the flags held back by `restoreFile` once every name has been linked.
    func applyDeferredLinkFlags() {
        for (group, node, path) in lockedLinkSources.withLock({ $0 }) {
            do {
                let (directory, name) = try firstName(of: group)
                let fd = try directory.openAt(name, flags: [.readOnly, .noFollow, .nonBlocking, .noControllingTerminal])
                applyFlags(node, fd: fd, path: path)
            } catch {
                warn(path, "cannot set inode flags: \(error)")
            }
        }
    }

    func makeLink(_ group: LinkGroup, name: [UInt8], in dir: FileDescriptor, path: [UInt8]) throws {
        let (source, sourceName) = try firstName(of: group)
        var attempts = 0
        while true {
            let temp = temporaryName()
            do {
                try dir.makeHardLink(temp, to: sourceName, in: source)
            } catch let error as SystemError where error.errno == .EEXIST && attempts < 16 {
                attempts += 1
                continue
            }
            do {
                try replace(temp, with: name, in: dir, path: path)
            } catch {
                try? dir.unlink(temp)
                throw error
            }
            return
        }
    }

    // MARK: Symlinks and special files

    func restoreOther(_ node: Node, path: [UInt8], in dir: RestoreDir) {
        var attempts = 0
        var temp = temporaryName()
        do {
            while true {
                do {
                    switch node.kind {
                    case .symlink:
                        try dir.fd.makeSymlink(temp, target: node.linkTarget)
                    case .fifo, .characterDevice, .blockDevice:
                        try dir.fd.makeNode(temp, type: node.kind.fileType, permissions: 0o600, rdev: node.rdev)
                    default:
                        return
                    }
                    break
                } catch let error as SystemError where error.errno == .EEXIST && attempts < 16 {
                    attempts += 1
                    temp = temporaryName()
                }
            }
        } catch let error as SystemError {
            if !failIfTargetFull(error, path: path) { self.error(path, "cannot create: \(error.errno)") }
            return
        } catch {
            self.error(path, "cannot create: \(error)")
            return
        }
        applyMetadata(node, target: .path(dir.fd.procPath(temp)), path: path, at: (dir.fd, temp))
        do {
            try replace(temp, with: node.name, in: dir.fd, path: path)
        } catch {
            try? dir.fd.unlink(temp)
            self.error(path, "not restored: \(error)")
            return
        }
        counters.withLock { $0.others += 1 }
    }

    // MARK: Metadata

    /// Owner, then mode (chown clears setuid/setgid and capabilities), then xattrs and ACLs (no
    /// chmod after them: it would rewrite the ACL mask), then times; flags separately, last.
    /// `at` gives the directory and name for entries that cannot be opened (symlinks, nodes).
    func applyMetadata(_ node: Node, target: XattrTarget, path: [UInt8], skipFlags: Bool = false,
                       at entry: (FileDescriptor, [UInt8])? = nil) {
        var uid = node.uid
        var gid = node.gid
        if !options.numericOwners {
            if let name = node.user, let id = IdentityCache.shared.userID(named: name) { uid = id }
            if let name = node.group, let id = IdentityCache.shared.groupID(named: name) { gid = id }
        }
        var mode = node.mode & 0o7777
        do {
            if let (dir, name) = entry {
                try dir.changeOwner(of: name, uid: uid, gid: gid)
            } else if case .descriptor(let fd) = target {
                try fd.changeOwner(uid: uid, gid: gid)
            }
        } catch let error as SystemError where error.errno == .EPERM || error.errno == .EINVAL {
            // Not root: never leave a setuid/setgid file owned by someone else.
            mode &= ~0o6000
            counters.withLock { counters in
                if counters.chownFailures == 0 { counters.firstChownFailure = path }
                counters.chownFailures += 1
            }
        } catch {
            self.error(path, "cannot set owner: \(error)")
            mode &= ~0o6000
        }
        if node.kind != .symlink {
            do {
                if let (dir, name) = entry {
                    try dir.changeMode(of: name, permissions: mode)
                } else if case .descriptor(let fd) = target {
                    try fd.changeMode(mode)
                }
            } catch {
                self.error(path, "cannot set mode: \(error)")
            }
        }
        applyXattrs(node, target: target, path: path)
        do {
            if let (dir, name) = entry {
                try dir.setTimes(of: name, access: node.atime.timeSpec, modification: node.mtime.timeSpec)
            } else if case .descriptor(let fd) = target {
                try fd.setTimes(access: node.atime.timeSpec, modification: node.mtime.timeSpec)
            }
        } catch {
            self.error(path, "cannot set times: \(error)")
        }
        if !skipFlags, case .descriptor(let fd) = target {
            applyFlags(node, fd: fd, path: path)
        }
    }

    func applyXattrs(_ node: Node, target: XattrTarget, path: [UInt8]) {
        let wanted = Set(node.xattrs.map(\.name))
        // Remove what the entry got by inheritance or had from an earlier restore (default
        // ACLs of the parent, old attributes), but leave the security label alone.
        if let existing = try? ExtendedAttributes.list(target) {
            for name in existing where !wanted.contains(name) && name != Array("security.selinux".utf8) {
                do {
                    try ExtendedAttributes.remove(target, name: name)
                } catch {
                    warn(path, "cannot remove extended attribute \(escapedForDisplay(name)): \(error)")
                }
            }
        }
        for xattr in node.xattrs {
            do {
                try ExtendedAttributes.set(target, name: xattr.name, value: xattr.value)
            } catch let error as SystemError {
                let message = "cannot set extended attribute \(escapedForDisplay(xattr.name)): \(error.errno)"
                if error.errno.isUnsupported || error.errno == .EPERM { warn(path, message) } else { self.error(path, message) }
            } catch {
                self.error(path, "cannot set extended attribute \(escapedForDisplay(xattr.name)): \(error)")
            }
        }
    }

    /// Inode flags go last: after them an immutable file cannot be changed (or renamed).
    func applyFlags(_ node: Node, fd: FileDescriptor, path: [UInt8]) {
        let wanted = InodeFlags(rawValue: node.flags).intersection(.settable)
        let current: InodeFlags
        do {
            current = try fd.inodeFlags()
        } catch {
            if !wanted.isEmpty { warn(path, "cannot set inode flags (\(error))") }
            return
        }
        let desired = current.subtracting(.settable).union(wanted)
        guard desired != current else { return }
        do {
            try fd.setInodeFlags(desired)
        } catch let error as SystemError {
            warn(path, "cannot set inode flags \(flagLetters(wanted)): \(error.errno)")
        } catch {
            warn(path, "cannot set inode flags: \(error)")
        }
    }

    func flagLetters(_ flags: InodeFlags) -> String {
        var out = ""
        if flags.contains(.immutable) { out += "i" }
        if flags.contains(.appendOnly) { out += "a" }
        if flags.contains(.noDump) { out += "d" }
        if flags.contains(.noAtime) { out += "A" }
        return out.isEmpty ? String(flags.rawValue, radix: 16) : out
    }
}
