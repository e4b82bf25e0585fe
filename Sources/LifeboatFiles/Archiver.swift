import Dispatch
import Glibc
import LifeboatRepository
import LifeboatSystem
import Synchronization

/// Backs up file trees into a `BlobStore`: walks with directory descriptors, captures all
/// metadata, reads and chunks files on worker threads, and builds trees bottom-up.
public final class Archiver: Sendable {
    let store: any BlobStore

    public init(store: any BlobStore) {
        self.store = store
    }

    /// Runs one backup. Throws if a backup path is missing or unreadable (naming it) or if the
    /// repository fails; problems with single entries are reported in `BackupSummary.issues`.
    public func backup(_ options: BackupOptions) throws -> BackupSummary {
        raiseOpenFileLimit()
        let run = try BackupRun(store: store, options: options)
        return try run.execute()
    }
}

/// One directory whose tree is being assembled. It completes when the walker has enumerated it
/// and every child job (files on workers, subdirectories) has delivered its node.
final class DirBuilder: Sendable {
    struct State {
        var children: [Node] = []
        /// Outstanding children plus one while the walker is still enumerating.
        var pending = 1
    }
    /// The directory's own node (nil for the snapshot root).
    let node: Node?
    let parent: DirBuilder?
    let state = Mutex(State())

    init(node: Node?, parent: DirBuilder?) {
        self.node = node
        self.parent = parent
    }

    func addPending() { state.withLock { $0.pending += 1 } }

    /// Adds a finished child without changing the pending count (the caller holds a token).
    func add(_ child: Node) { state.withLock { $0.children.append(child) } }
}

/// A node of the trie of backup paths (their common ancestors are stored with their own
/// metadata but only with the selected children).
final class PathTrie {
    var children: [[UInt8]: PathTrie] = [:]
    /// This path itself is a backup root (its whole subtree is backed up).
    var isRoot = false
}

/// Counters shared by walker and workers.
struct BackupCounters {
    var filesNew: UInt64 = 0
    var filesChanged: UInt64 = 0
    var filesUnchanged: UInt64 = 0
    var directories: UInt64 = 0
    var others: UInt64 = 0
    var bytesRead: UInt64 = 0
    var bytesAdded: UInt64 = 0
    var totalSize: UInt64 = 0
    var filesDone: UInt64 = 0
}

final class BackupRun: Sendable, RunLogging {
    let store: any BlobStore
    let options: BackupOptions
    let chunker: Chunker
    let roots: [[UInt8]]
    let excludes: [[UInt8]]
    /// Changed paths (exact) and every ancestor of one, when incremental by journal.
    let changed: Set<[UInt8]>?
    let changedAncestors: Set<[UInt8]>
    let readers: WorkerPool
    let hashers: WorkerPool
    let readBuffers: ReadBufferPool
    let hardLinks = HardLinkContents()
    let counters = Mutex(BackupCounters())
    let log = RunLog()
    let rootID = Mutex<BlobID?>(nil)
    let throttle = ProgressThrottle()
    let identities = IdentityCache.shared
    let noAtime = Mutex(true)

    init(store: any BlobStore, options: BackupOptions) throws {
        self.store = store
        self.options = options
        chunker = store.makeChunker()
        let requested = options.paths.map { Array($0.utf8) } + options.rawPaths
        guard !requested.isEmpty else { throw FilesError("no backup paths given") }
        var roots = [[UInt8]]()
        for path in requested {
            roots.append(try BackupRun.resolve(path))
        }
        // A path inside another backup path adds nothing.
        roots = Array(Set(roots)).sorted { $0.lexicographicallyPrecedes($1) }
        self.roots = roots.filter { root in
            !PathBytes.ancestors(root).contains { roots.contains($0) } && (root == [slash] || !roots.contains([slash]))
        }
        excludes = options.excludes.map { Array($0.utf8) }
        if options.changedPaths != nil || options.rawChangedPaths != nil, options.parentRoot != nil {
            let all = (options.changedPaths ?? []).map { Array($0.utf8) } + (options.rawChangedPaths ?? [])
            let set = Set(all.map { PathBytes.absolute($0) })
            changed = set
            changedAncestors = Set(set.flatMap { PathBytes.ancestors($0) } + [[slash]])
        } else {
            changed = nil
            changedAncestors = []
        }
        let threads = max(1, options.threads)
        readBuffers = ReadBufferPool(keep: threads)
        readers = WorkerPool(name: "lifeboat-read", threads: threads, capacity: threads * 4)
        hashers = WorkerPool(name: "lifeboat-hash", threads: threads, capacity: threads * 2)
    }

    /// Absolute, normalised, parent directories resolved; the last component is kept as given.
    static func resolve(_ path: [UInt8]) throws -> [UInt8] {
        let absolute = PathBytes.absolute(path)
        if absolute == [slash] { return absolute }
        let (directory, name) = splitPath(absolute)
        guard let real = PathBytes.realDirectory(directory) else {
            let error = Errno.current
            if error == .ENAMETOOLONG { return absolute }
            throw SystemError("backup path", path: absolute, errno: error)
        }
        return PathBytes.child(real, name)
    }

    // MARK: Issues and progress


    func report(_ path: [UInt8]) {
        guard let progress = options.progress, throttle.shouldReport() else { return }
        let snapshot = counters.withLock { $0 }
        progress(BackupProgress(
            filesDone: snapshot.filesDone, bytesDone: snapshot.bytesRead, filesTotal: nil, bytesTotal: nil,
            currentPath: escapedForDisplay(path)))
    }

    func isExcluded(_ path: [UInt8]) -> Bool {
        excludes.contains { PathBytes.matches(pattern: $0, path: path) }
    }

    /// True if the subtree at `path` must be walked afresh (no journal, or the journal names it
    /// or one of its ancestors).
    func isCovered(_ path: [UInt8]) -> Bool {
        guard let changed else { return true }
        if changed.contains(path) || changed.contains([slash]) { return true }
        return PathBytes.ancestors(path).contains { changed.contains($0) }
    }

    // MARK: The run

    func execute() throws -> BackupSummary {
        defer {
            readers.finish()
            hashers.finish()
        }
        try validateRoots()
        let parentTree = try options.parentRoot.map { try store.loadTree($0) }
        do {
            try walk(parentTree: parentTree)
        } catch {
            fail(error)
        }
        readers.finish()
        hashers.finish()
        if let error = log.firstFailure { throw error }
        guard let root = rootID.withLock({ $0 }) else { throw FilesError("backup did not complete") }
        let totals = counters.withLock { $0 }
        var summary = BackupSummary(root: root)
        summary.filesNew = totals.filesNew
        summary.filesChanged = totals.filesChanged
        summary.filesUnchanged = totals.filesUnchanged
        summary.directories = totals.directories
        summary.others = totals.others
        summary.bytesRead = totals.bytesRead
        summary.bytesAdded = totals.bytesAdded
        summary.totalSize = totals.totalSize
        summary.issues = log.issues
        if let progress = options.progress {
            progress(BackupProgress(
                filesDone: totals.filesDone, bytesDone: totals.bytesRead, filesTotal: totals.filesDone,
                bytesTotal: totals.bytesRead, currentPath: ""))
        }
        return summary
    }

    /// Every backup path must exist and (for directories and files) be readable.
    func validateRoots() throws {
        for root in roots {
            var dir = try FileDescriptor.open([slash], flags: [.directory, .pathOnly])
            let parts = PathBytes.components(root)
            for (index, part) in parts.enumerated() {
                let prefix = PathBytes.join(Array(parts[0...index]))
                if index == parts.count - 1 {
                    let status: FileStatus
                    do { status = try dir.statusAt(part) } catch let error as SystemError {
                        throw SystemError("cannot back up", path: prefix, errno: error.errno)
                    }
                    do {
                        switch status.type {
                        case .directory: _ = try dir.openAt(part, flags: [.directory, .noFollow])
                        case .regular: _ = try dir.openAt(part, flags: [.noFollow, .nonBlocking])
                        default: break
                        }
                    } catch let error as SystemError {
                        throw SystemError("cannot read backup path", path: prefix, errno: error.errno)
                    }
                } else {
                    do {
                        dir = try dir.openAt(part, flags: [.directory, .pathOnly, .noFollow])
                    } catch let error as SystemError {
                        throw SystemError("cannot reach backup path", path: prefix, errno: error.errno)
                    }
                }
            }
            if parts.isEmpty {
                _ = try FileDescriptor.open([slash], flags: [.directory])
            }
        }
    }

    // MARK: Walking

    enum FrameMode {
        /// All entries of the directory (subject to excludes).
        case full
        /// Only the entries on the way to backup paths.
        case selected(PathTrie)
        /// Journal-driven: entries from the parent tree, re-examining only changed ones.
        case partial
    }

    final class Frame {
        let fd: FileDescriptor
        let builder: DirBuilder
        let path: [UInt8]
        let names: [[UInt8]]
        var index = 0
        let parentTree: Tree?
        let mode: FrameMode
        /// Device of the backup path this frame belongs to (for not crossing file systems).
        let device: UInt64

        init(fd: FileDescriptor, builder: DirBuilder, path: [UInt8], names: [[UInt8]], parentTree: Tree?,
             mode: FrameMode, device: UInt64) {
            self.fd = fd
            self.builder = builder
            self.path = path
            self.names = names
            self.parentTree = parentTree
            self.mode = mode
            self.device = device
        }
    }

    func walk(parentTree: Tree?) throws {
        let rootFD = try FileDescriptor.open([slash], flags: [.directory])
        let rootBuilder = DirBuilder(node: nil, parent: nil)
        let trie = PathTrie()
        for root in roots {
            var node = trie
            for part in PathBytes.components(root) {
                if let next = node.children[part] {
                    node = next
                } else {
                    let next = PathTrie()
                    node.children[part] = next
                    node = next
                }
            }
            node.isRoot = true
        }
        let rootStatus = try rootFD.status()
        var stack = [Frame]()
        if trie.isRoot {
            let frame = try makeFrame(fd: rootFD, builder: rootBuilder, path: [slash], parentTree: parentTree,
                                      covered: isCovered([slash]), device: rootStatus.device)
            stack.append(frame)
        } else {
            stack.append(Frame(
                fd: rootFD, builder: rootBuilder, path: [slash],
                names: trie.children.keys.sorted { $0.lexicographicallyPrecedes($1) }, parentTree: parentTree,
                mode: .selected(trie), device: rootStatus.device))
        }
        while let frame = stack.last {
            if failed { break }
            guard frame.index < frame.names.count else {
                stack.removeLast()
                finished(frame.builder, child: nil)
                continue
            }
            let name = frame.names[frame.index]
            frame.index += 1
            if let next = try process(name, in: frame) {
                stack.append(next)
            }
        }
        if failed {
            // Release the tokens of the frames left open so no builder waits for them.
            return
        }
    }

    /// A frame for a directory being walked (fully or from the journal).
    func makeFrame(fd: FileDescriptor, builder: DirBuilder, path: [UInt8], parentTree: Tree?, covered: Bool,
                   device: UInt64) throws -> Frame {
        if covered || parentTree == nil {
            let entries = try fd.listDirectory()
            let names = entries.map(\.name).sorted { $0.lexicographicallyPrecedes($1) }
            return Frame(fd: fd, builder: builder, path: path, names: names, parentTree: parentTree, mode: .full,
                         device: device)
        }
        var names = Set(parentTree?.nodes.map(\.name) ?? [])
        if let changed {
            for candidate in changed.union(changedAncestors) where candidate.count > path.count {
                let prefix = path == [slash] ? [slash] : path + [slash]
                guard candidate.starts(with: prefix) else { continue }
                let rest = candidate[prefix.count...]
                if let name = rest.split(separator: slash, maxSplits: 1).first { names.insert(Array(name)) }
            }
        }
        return Frame(fd: fd, builder: builder, path: path,
                     names: names.sorted { $0.lexicographicallyPrecedes($1) }, parentTree: parentTree, mode: .partial,
                     device: device)
    }

    /// Handles one entry of a frame; returns a frame to push for a directory to descend into.
    func process(_ name: [UInt8], in frame: Frame) throws -> Frame? {
        let path = PathBytes.child(frame.path, name)
        let parentNode = frame.parentTree?.node(named: name)
        switch frame.mode {
        case .selected(let trie):
            guard let sub = trie.children[name] else { return nil }
            if sub.isRoot {
                return try processEntry(name, path: path, in: frame, parentNode: parentNode, covered: isCovered(path),
                                        isBackupRoot: true)
            }
            return try processAncestor(name, path: path, trie: sub, in: frame, parentNode: parentNode)
        case .full:
            if !excludes.isEmpty && isExcluded(path) { return nil }
            return try processEntry(name, path: path, in: frame, parentNode: parentNode, covered: true,
                                    isBackupRoot: false)
        case .partial:
            let isChanged = changed?.contains(path) ?? true
            if isChanged || changedAncestors.contains(path) {
                if !excludes.isEmpty && isExcluded(path) { return nil }
                return try processEntry(name, path: path, in: frame, parentNode: parentNode, covered: isChanged,
                                        isBackupRoot: false, vanishedIsDeletion: true)
            }
            if let parentNode {
                // Not changed: taken from the parent snapshot as it is.
                account(reused: parentNode)
                frame.builder.add(parentNode)
            }
            return nil
        }
    }

    func account(reused node: Node) {
        counters.withLock { counters in
            switch node.kind {
            case .file:
                counters.filesUnchanged += 1
                counters.totalSize += node.size
                counters.filesDone += 1
            case .directory: counters.directories += 1
            default: counters.others += 1
            }
        }
    }

    /// A common ancestor of backup paths: its own metadata, only the selected children.
    func processAncestor(_ name: [UInt8], path: [UInt8], trie: PathTrie, in frame: Frame, parentNode: Node?) throws
        -> Frame?
    {
        let status = try frame.fd.statusAt(name)
        guard status.type == .directory else {
            throw SystemError("backup path's parent is not a directory", path: path, errno: .ENOTDIR)
        }
        let fd: FileDescriptor
        var canRead = true
        do {
            fd = try frame.fd.openAt(name, flags: [.directory, .noFollow])
        } catch {
            fd = try frame.fd.openAt(name, flags: [.directory, .noFollow, .pathOnly])
            canRead = false
        }
        var node = metadataNode(name, status)
        if canRead { captureExtras(&node, fd: fd, path: path) }
        counters.withLock { $0.directories += 1 }
        frame.builder.addPending()
        let builder = DirBuilder(node: node, parent: frame.builder)
        let parentTree = parentNode.flatMap { loadParentTree($0) }
        return Frame(fd: fd, builder: builder, path: path,
                     names: trie.children.keys.sorted { $0.lexicographicallyPrecedes($1) }, parentTree: parentTree,
                     mode: .selected(trie), device: status.device)
    }

    func loadParentTree(_ node: Node) -> Tree? {
        guard node.kind == .directory, let subtree = node.subtree else { return nil }
        return try? store.loadTree(subtree)
    }

    /// The metadata every node gets from a status.
    func metadataNode(_ name: [UInt8], _ status: FileStatus) -> Node {
        Node(
            name: name, kind: Node.Kind(status.type) ?? .file, mode: status.permissions, uid: status.uid,
            gid: status.gid, user: identities.userName(status.uid), group: identities.groupName(status.gid),
            mtime: Timestamp(status.mtime), atime: Timestamp(status.atime), ctime: Timestamp(status.ctime),
            size: status.type == .regular ? status.size : 0, device: status.device, inode: status.inode,
            linkCount: status.linkCount,
            rdev: (status.type == .characterDevice || status.type == .blockDevice) ? status.rdev : 0)
    }

    /// Xattrs and inode flags read through an open descriptor (files and directories).
    func captureExtras(_ node: inout Node, fd: FileDescriptor, path: [UInt8]) {
        captureXattrs(&node, target: .descriptor(fd), path: path)
        do {
            node.flags = try fd.inodeFlags().rawValue
        } catch let error as SystemError where error.errno.isUnsupported {
        } catch {
            warn(path, "cannot read inode flags: \(error)")
        }
    }

    func captureXattrs(_ node: inout Node, target: XattrTarget, path: [UInt8], reportErrors: Bool = true) {
        do {
            node.xattrs = try ExtendedAttributes.all(target).map { ExtendedAttribute(name: $0.name, value: $0.value) }
        } catch let error as SystemError where error.errno.isUnsupported || !reportErrors {
        } catch let error as SystemError where error.errno == .ENOENT {
            // Vanished meanwhile (or /proc is not mounted, for entries reached by path).
        } catch let error as SystemError {
            self.error(path, "cannot read extended attributes: \(error.errno)")
        } catch {
            self.error(path, "cannot read extended attributes: \(error)")
        }
    }

    /// An entry found in a directory being walked.
    func processEntry(
        _ name: [UInt8], path: [UInt8], in frame: Frame, parentNode: Node?, covered: Bool, isBackupRoot: Bool,
        vanishedIsDeletion: Bool = false
    ) throws -> Frame? {
        // Journal-driven and neither changed nor above a change: the parent's node as it is.
        if isBackupRoot && !covered && !changedAncestors.contains(path), let parentNode {
            account(reused: parentNode)
            frame.builder.add(parentNode)
            return nil
        }
        let status: FileStatus
        do {
            status = try frame.fd.statusAt(name)
        } catch let error as SystemError where error.errno == .ENOENT {
            if !vanishedIsDeletion { warn(path, "vanished during backup") }
            return nil
        } catch let error as SystemError {
            self.error(path, "cannot stat: \(error.errno)")
            return nil
        }
        report(path)
        switch status.type {
        case .regular:
            let forceRead = options.force || (changed?.contains(path) ?? false)
            if !forceRead, let parentNode, parentNode.kind == .file, parentNode.size == status.size,
               parentNode.mtime == Timestamp(status.mtime), parentNode.ctime == Timestamp(status.ctime),
               parentNode.inode == status.inode
            {
                var node = metadataNode(name, status)
                node.xattrs = parentNode.xattrs
                node.flags = parentNode.flags
                node.content = parentNode.content
                node.extents = parentNode.extents
                account(reused: node)
                frame.builder.add(node)
                return nil
            }
            frame.builder.addPending()
            let job = FileJob(dir: frame.fd, name: name, path: path, listed: status,
                              parent: parentNode?.kind == .file ? parentNode : nil, builder: frame.builder)
            readers.submit { [self] in
                let node = self.read(job)
                self.finished(job.builder, child: node)
            }
            return nil
        case .directory:
            return try processDirectory(name, path: path, status: status, in: frame, parentNode: parentNode,
                                        covered: covered, isBackupRoot: isBackupRoot)
        case .symlink:
            var node = metadataNode(name, status)
            do {
                let target = try frame.fd.readLink(name)
                // readlink(2) sets the link's atime (under relatime the first time after a change,
                // then daily): record the status after it, so the next backup finds the atime it
                // recorded and an unchanged tree stays the same tree.
                if let after = try? frame.fd.statusAt(name), after.type == .symlink, after.inode == status.inode,
                    after.device == status.device
                {
                    node = metadataNode(name, after)
                }
                node.linkTarget = target
            } catch let error as SystemError where error.errno == .ENOENT {
                warn(path, "vanished during backup")
                return nil
            } catch let error as SystemError {
                self.error(path, "cannot read link: \(error.errno)")
                return nil
            }
            captureXattrs(&node, target: .path(frame.fd.procPath(name)), path: path)
            counters.withLock { $0.others += 1 }
            frame.builder.add(node)
            return nil
        case .fifo, .characterDevice, .blockDevice, .socket:
            // Never opened: a FIFO would block and a device would be read.
            var node = metadataNode(name, status)
            captureXattrs(&node, target: .path(frame.fd.procPath(name)), path: path)
            counters.withLock { $0.others += 1 }
            frame.builder.add(node)
            return nil
        case .unknown:
            warn(path, "unknown file type, skipped")
            return nil
        }
    }

    func processDirectory(
        _ name: [UInt8], path: [UInt8], status: FileStatus, in frame: Frame, parentNode: Node?, covered: Bool,
        isBackupRoot: Bool
    ) throws -> Frame? {
        var node = metadataNode(name, status)
        counters.withLock { $0.directories += 1 }
        let device = isBackupRoot ? status.device : frame.device
        let emptyTree = { [self] () throws -> Node in
            var empty = node
            empty.subtree = try self.store.saveTree(Tree(nodes: []))
            return empty
        }
        let fd: FileDescriptor
        do {
            fd = try frame.fd.openAt(name, flags: [.directory, .noFollow, .noAccessTime])
        } catch let error as SystemError where error.errno == .EPERM {
            do { fd = try frame.fd.openAt(name, flags: [.directory, .noFollow]) } catch let error as SystemError {
                self.error(path, "cannot open directory: \(error.errno)")
                frame.builder.add(try emptyTree())
                return nil
            }
        } catch let error as SystemError where error.errno == .ENOENT {
            warn(path, "vanished during backup")
            return nil
        } catch let error as SystemError {
            self.error(path, "cannot open directory: \(error.errno)")
            frame.builder.add(try emptyTree())
            return nil
        }
        let opened = try fd.status()
        if opened.inode != status.inode || opened.device != status.device {
            warn(path, "replaced during backup; the new directory is stored")
            node = metadataNode(name, opened)
        }
        captureExtras(&node, fd: fd, path: path)
        if !options.crossFilesystems && opened.device != device {
            // A mount point: recorded as an empty directory.
            node.subtree = try store.saveTree(Tree(nodes: []))
            frame.builder.add(node)
            return nil
        }
        let parentTree = parentNode.flatMap { loadParentTree($0) }
        let isCoveredHere = covered || parentTree == nil
        if !isCoveredHere && !changedAncestors.contains(path) {
            // Journal-driven, unchanged: keep the parent's subtree but the fresh metadata.
            if let subtree = parentNode?.subtree {
                node.subtree = subtree
                frame.builder.add(node)
                return nil
            }
        }
        let builder = DirBuilder(node: node, parent: frame.builder)
        let next: Frame
        do {
            next = try makeFrame(fd: fd, builder: builder, path: path, parentTree: parentTree, covered: isCoveredHere,
                                 device: device)
        } catch let error as SystemError {
            self.error(path, "cannot list directory: \(error.errno)")
            frame.builder.add(try emptyTree())
            return nil
        }
        frame.builder.addPending()
        return next
    }

    /// Delivers a finished child (or just releases a token) and completes every directory that
    /// thereby has all its children, walking up iteratively.
    func finished(_ builder: DirBuilder, child: Node?) {
        var current = builder
        var child = child
        while true {
            let ready: [Node]? = current.state.withLock { state in
                if let child { state.children.append(child) }
                state.pending -= 1
                guard state.pending == 0 else { return nil }
                let children = state.children
                state.children = []
                return children
            }
            guard let children = ready else { return }
            if failed { return }
            let id: BlobID
            do {
                id = try store.saveTree(Tree(nodes: children))
            } catch {
                fail(error)
                return
            }
            guard let parent = current.parent, var node = current.node else {
                rootID.withLock { $0 = id }
                return
            }
            node.subtree = id
            child = node
            current = parent
        }
    }
}

/// A regular file to read on a worker.
struct FileJob: Sendable {
    let dir: FileDescriptor
    let name: [UInt8]
    let path: [UInt8]
    let listed: FileStatus
    /// The parent snapshot's node of the same name, if it was a file.
    let parent: Node?
    let builder: DirBuilder
}
