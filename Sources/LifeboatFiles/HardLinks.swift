import Dispatch
import LifeboatRepository
import Synchronization

/// What the first name of a multiply-linked file stored in this backup, so that the inode's
/// other names reuse it instead of reading the file again (a tree of rsnapshot-style
/// hard-linked copies would otherwise be read once per copy) and every name of one inode gets
/// the same content in the snapshot even when the file changes during the backup (a restore
/// links the names to one inode, so any difference between them would be lost or depend on
/// which names were selected).
struct SharedContent: Sendable, Equatable {
    /// The name that was read, for the warning when the file changed before another name.
    var path: [UInt8]
    var size: UInt64
    var mtime: Timestamp
    var ctime: Timestamp
    var content: [BlobID]
    var extents: [Extent]?
    var xattrs: [ExtendedAttribute]
    var flags: UInt32

    init(path: [UInt8], node: Node) {
        self.path = path
        size = node.size
        mtime = node.mtime
        ctime = node.ctime
        content = node.content
        extents = node.extents
        xattrs = node.xattrs
        flags = node.flags
    }

    /// `node` (another name's metadata) with this content and the times that go with it.
    func applied(to node: Node) -> Node {
        var shared = node
        shared.size = size
        shared.mtime = mtime
        shared.ctime = ctime
        shared.content = content
        shared.extents = extents
        shared.xattrs = xattrs
        shared.flags = flags
        return shared
    }
}

/// The `SharedContent` of multiply-linked files read so far in one backup.
///
/// An entry is dropped once every link the inode counts has been seen. Links outside the backup
/// keep their entry, so at most `capacity` inodes are remembered (about 560 bytes each
/// measured, so under 20 MiB); past that, names are simply read (correct, only slower).
final class HardLinkContents: Sendable {
    struct Key: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    enum Claim {
        /// No other name of the inode was seen: read it, then `publish` what was stored (nil if
        /// the read failed, so that the next name is read instead).
        case first(publish: @Sendable (SharedContent?) -> Void)
        /// Another name was read earlier in this run (nil: that read failed).
        case readBefore(SharedContent?)
        /// Too many inodes remembered: read it, publish nothing.
        case untracked
    }

    private enum Slot {
        case reading(DispatchGroup)
        case done(SharedContent?, unseenLinks: UInt32)
    }

    private let slots = Mutex<[Key: Slot]>([:])
    private let capacity: Int

    init(capacity: Int = 32_768) { self.capacity = capacity }

    /// Called once per name of a multiply-linked file. Waits if another name is being read right
    /// now: that read was queued earlier (the readers' queue is FIFO) and depends on nothing
    /// this one holds.
    func claim(_ key: Key, linkCount: UInt32) -> Claim {
        enum Found { case first(DispatchGroup), wait(DispatchGroup), stored(SharedContent?), untracked }
        let found = slots.withLock { slots -> Found in
            switch slots[key] {
            case .reading(let group)?:
                return .wait(group)
            case .done(let stored, let unseen)?:
                if unseen <= 1 { slots[key] = nil } else { slots[key] = .done(stored, unseenLinks: unseen - 1) }
                return .stored(stored)
            case nil:
                guard slots.count < capacity else { return .untracked }
                let group = DispatchGroup()
                group.enter()
                slots[key] = .reading(group)
                return .first(group)
            }
        }
        switch found {
        case .first(let group):
            return .first(publish: { [self] stored in
                slots.withLock { slots in
                    slots[key] = linkCount > 1 ? .done(stored, unseenLinks: linkCount - 1) : nil
                }
                group.leave()
            })
        case .wait(let group):
            group.wait()
            return claim(key, linkCount: linkCount)
        case .stored(let stored):
            return .readBefore(stored)
        case .untracked:
            return .untracked
        }
    }
}
