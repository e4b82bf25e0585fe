import Dispatch
import Glibc
import LifeboatRepository
import LifeboatSystem
import Synchronization

/// The chunk IDs of one file, filled in by hashing workers in any order.
final class ChunkAssembly: Sendable {
    let ids = Mutex<[Int: BlobID]>([:])
    let group = DispatchGroup()
}

extension BackupRun {
    /// The node of one regular file: read, or for a further name of a multiply-linked inode,
    /// the content stored for the name read earlier in this run.
    func read(_ job: FileJob) -> Node? {
        let listed = job.listed
        guard listed.linkCount > 1 else { return readFile(job) }
        switch hardLinks.claim(.init(device: listed.device, inode: listed.inode), linkCount: listed.linkCount) {
        case .first(let publish):
            let node = readFile(job)
            publish(node.map { SharedContent(path: job.path, node: $0) })
            return node
        case .readBefore(let stored?):
            // One inode, one content: restore links the names together, so they must agree
            // even if the file changed since the other name was read.
            if stored.size != listed.size || stored.mtime != Timestamp(listed.mtime)
                || stored.ctime != Timestamp(listed.ctime)
            {
                warn(job.path, "changed during backup; stored as read through its other name \(escapedForDisplay(stored.path))")
            }
            let node = stored.applied(to: metadataNode(job.name, listed))
            countStored(node, parent: job.parent)
            return node
        case .readBefore(nil), .untracked:
            return readFile(job)
        }
    }

    /// Reads, chunks and stores one regular file; returns its node, or nil if it vanished or
    /// turned into something else (a warning is recorded).
    private func readFile(_ job: FileJob) -> Node? {
        if failed { return nil }
        let path = job.path
        var flags: FileDescriptor.OpenFlags = [.readOnly, .noFollow, .nonBlocking, .noControllingTerminal]
        let useNoAtime = noAtime.withLock { $0 }
        let fd: FileDescriptor
        do {
            do {
                fd = try job.dir.openAt(job.name, flags: useNoAtime ? flags.union(.noAccessTime) : flags)
            } catch let error as SystemError where error.errno == .EPERM && useNoAtime {
                // O_NOATIME needs ownership or CAP_FOWNER.
                flags.remove(.noAccessTime)
                fd = try job.dir.openAt(job.name, flags: flags)
            }
        } catch let error as SystemError {
            switch error.errno {
            case .ENOENT:
                warn(path, "vanished during backup")
                return nil
            case .ELOOP, .ENXIO, .EAGAIN:
                warn(path, "changed type during backup, skipped")
                return nil
            default:
                // Keep name and metadata; the content could not be read.
                self.error(path, "cannot read: \(error.errno)")
                var node = metadataNode(job.name, job.listed)
                node.size = 0
                captureXattrs(&node, target: .path(job.dir.procPath(job.name)), path: path, reportErrors: false)
                counters.withLock { $0.filesDone += 1 }
                return node
            }
        } catch {
            self.error(path, "cannot read: \(error)")
            return nil
        }
        do {
            return try read(job, fd: fd)
        } catch let error as SystemError {
            if failed { return nil }
            self.error(path, "cannot read: \(error.errno)")
            return nil
        } catch {
            fail(error)
            return nil
        }
    }

    private func read(_ job: FileJob, fd: FileDescriptor) throws -> Node? {
        let path = job.path
        let status = try fd.status()
        guard status.type == .regular else {
            warn(path, "changed type during backup, skipped")
            return nil
        }
        if status.inode != job.listed.inode || status.device != job.listed.device {
            warn(path, "replaced during backup; the new version is stored")
        }
        var node = metadataNode(job.name, status)
        captureExtras(&node, fd: fd, path: path)
        let size = status.size
        // A bigger readahead window only pays off beyond the default one.
        if size > UInt64(ReadBufferPool.smallFileLimit) { _ = posix_fadvise(fd.rawValue, 0, 0, POSIX_FADV_SEQUENTIAL) }

        // Holes: only look when fewer blocks are allocated than the size needs.
        var ranges = [DataRange(offset: 0, length: size)]
        if size > 0 && status.blocks * 512 < size {
            ranges = try fd.dataRanges(size: size)
        } else if size == 0 {
            ranges = []
        }

        let maximum = chunker.parameters.maximum
        // Small files get a heap buffer of their size; anything bigger shares the pooled
        // 2×maximum buffers, whose pages stay mapped (a fresh multi-MiB buffer per file costs a
        // page fault and a zeroed page for every 4 KiB read).
        let dataBytes = ranges.reduce(UInt64(0)) { $0 + $1.length }
        let capacity = dataBytes <= UInt64(ReadBufferPool.smallFileLimit) ? max(Int(dataBytes), 4096) : 2 * maximum
        let lease = readBuffers.take(byteCount: capacity)
        defer { readBuffers.give(lease) }
        let buffer = lease.memory
        let assembly = ChunkAssembly()
        var chunkCount = 0
        // The unconsumed bytes are buffer[start..<filled]. They move to the front only when
        // fewer than a maximum chunk remain, so each byte is moved about once, not once per cut.
        var start = 0
        var filled = 0
        var rangeIndex = 0
        var offsetInRange: UInt64 = 0
        var shrank = false
        var readEnd: UInt64 = 0  // file offset just past the last byte read
        let handOff = size > UInt64(maximum) && options.threads > 1

        while true {
            if filled - start < maximum && start > 0, rangeIndex < ranges.count && !shrank, let base = buffer.baseAddress {
                memmove(base, base + start, filled - start)
                filled -= start
                start = 0
            }
            // Fill the buffer from the data ranges.
            while filled < capacity && rangeIndex < ranges.count && !shrank {
                let range = ranges[rangeIndex]
                let want = min(UInt64(capacity - filled), range.length - offsetInRange)
                let target = UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<(filled + Int(want))])
                let count = try fd.read(into: target, at: range.offset + offsetInRange)
                if count == 0 {
                    shrank = true
                    break
                }
                filled += count
                offsetInRange += UInt64(count)
                readEnd = range.offset + offsetInRange
                if offsetInRange == range.length {
                    rangeIndex += 1
                    offsetInRange = 0
                }
            }
            if filled == start { break }
            if failed { return nil }
            let cut = chunker.cut(UnsafeRawBufferPointer(rebasing: buffer[start..<filled]))
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[start..<(start + cut)])
            let index = chunkCount
            chunkCount += 1
            if handOff {
                let copy = [UInt8](chunk)
                assembly.group.enter()
                hashers.submit { [self] in
                    defer { assembly.group.leave() }
                    if self.failed { return }
                    do {
                        let id = try copy.withUnsafeBytes { try self.storeChunk($0) }
                        assembly.ids.withLock { $0[index] = id }
                    } catch {
                        self.fail(error)
                    }
                }
            } else {
                let id = try storeChunk(chunk)
                assembly.ids.withLock { $0[index] = id }
            }
            start += cut
            counters.withLock { $0.bytesRead += UInt64(cut) }
            report(path)
        }
        assembly.group.wait()
        if failed { return nil }
        let ids = assembly.ids.withLock { $0 }
        node.content = try (0..<chunkCount).map { index in
            guard let id = ids[index] else { throw FilesError("chunk \(index) of \(escapedForDisplay(path)) was not stored") }
            return id
        }

        // What was stored: up to the size seen at open, or a clean prefix if the file shrank.
        var storedSize = size
        if shrank {
            storedSize = readEnd
            ranges = ranges.compactMap { range in
                guard range.offset < readEnd else { return nil }
                return DataRange(offset: range.offset, length: min(range.end, readEnd) - range.offset)
            }
        }
        node.size = storedSize
        let dense = ranges.isEmpty ? storedSize == 0 : (ranges.count == 1 && ranges[0].offset == 0 && ranges[0].length == storedSize)
        node.extents = dense ? nil : ranges.map { Extent(offset: $0.offset, length: $0.length) }

        let after = try fd.status()
        // Changed between the directory listing and the open counts too: the walk saw another
        // version than the one stored (and the window makes a live file's change visible).
        let listed = job.listed
        let changedSinceListing = listed.inode == status.inode && listed.device == status.device
            && (listed.size != status.size || listed.mtime != status.mtime || listed.ctime != status.ctime)
        if shrank || changedSinceListing || after.size != status.size || after.mtime != status.mtime
            || after.ctime != status.ctime
        {
            warn(path, shrank
                 ? "changed during backup (shrank); stored the first \(storedSize) bytes as read"
                 : "changed during backup; stored \(storedSize) bytes as read")
        }
        countStored(node, parent: job.parent)
        return node
    }

    /// Counts a file whose node is complete as new, changed or unchanged against the parent
    /// snapshot's node.
    func countStored(_ node: Node, parent: Node?) {
        counters.withLock { counters in
            // Re-read but identical (e.g. only the ctime moved after a restore in place): unchanged.
            if let parent {
                if parent.content == node.content && parent.size == node.size && parent.extents == node.extents
                    && parent.mtime == node.mtime
                {
                    counters.filesUnchanged += 1
                } else {
                    counters.filesChanged += 1
                }
            } else {
                counters.filesNew += 1
            }
            counters.totalSize += node.size
            counters.filesDone += 1
        }
    }

    func storeChunk(_ chunk: UnsafeRawBufferPointer) throws -> BlobID {
        let id = store.blobID(of: chunk)
        let added = try store.save(.data, id: id, plaintext: chunk)
        if added > 0 { counters.withLock { $0.bytesAdded += UInt64(added) } }
        return id
    }
}

/// Read buffers for big files, reused from file to file: a fresh 16 MiB buffer per file costs
/// page faults and zeroing by the kernel, which showed as a large share of a backup's CPU time.
final class ReadBufferPool: Sendable {
    struct Lease: @unchecked Sendable {
        let memory: UnsafeMutableRawBufferPointer
    }

    /// Files up to this size are read into a buffer of their own size, from the heap.
    static let smallFileLimit = 1 << 20

    private let free = Mutex<[Lease]>([])
    private let keep: Int

    init(keep: Int) { self.keep = keep }

    func take(byteCount: Int) -> Lease {
        let reused = free.withLock { leases -> Lease? in
            guard let index = leases.firstIndex(where: { $0.memory.count == byteCount }) else { return nil }
            return leases.remove(at: index)
        }
        return reused ?? Lease(memory: .allocate(byteCount: byteCount, alignment: 64))
    }

    func give(_ lease: Lease) {
        // Only big buffers are worth keeping; small files get buffers of their own size.
        let kept = lease.memory.count > Self.smallFileLimit && free.withLock { leases -> Bool in
            guard leases.count < keep else { return false }
            leases.append(lease)
            return true
        }
        if !kept { lease.memory.deallocate() }
    }

    deinit {
        for lease in free.withLock({ $0 }) { lease.memory.deallocate() }
    }
}
