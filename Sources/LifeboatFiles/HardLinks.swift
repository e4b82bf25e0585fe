import Dispatch
import LifeboatRepository
import Synchronization

/// The nodes of multiply-linked files read so far in one backup, so that the other names of an
/// inode reuse the first name's content instead of reading it again (a tree of rsnapshot-style
/// hard-linked copies would otherwise be read once per copy), and every name of an inode gets
/// the same content even when the file changes during the backup.
///
/// An entry is dropped once every link the inode counts has been seen. Links outside the backup
/// keep their entry, so at most `capacity` inodes are remembered; past that, names are simply
/// read (correct, only slower).
final class HardLinkContents: Sendable {
    struct Key: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    enum Claim {
        /// No other name of the inode was seen: read it, then `publish` the node (nil if the read
        /// failed, so that the next name is read instead).
        case first(publish: @Sendable (Node?) -> Void)
        /// Another name was read earlier in this run (nil: that read failed).
        case readBefore(Node?)
        /// Too many inodes remembered: read it, publish nothing.
        case untracked
    }

    private enum Slot {
        case reading(DispatchGroup)
        case done(Node?, unseenLinks: UInt32)
    }

    private let slots = Mutex<[Key: Slot]>([:])
    private let capacity: Int

    init(capacity: Int = 100_000) { self.capacity = capacity }

    /// Called once per name of a multiply-linked file. Waits if another name is being read right
    /// now: that read was queued earlier (the readers' queue is FIFO) and depends on nothing
    /// this one holds.
    func claim(_ key: Key, linkCount: UInt32) -> Claim {
        enum Found { case first(DispatchGroup), wait(DispatchGroup), node(Node?), untracked }
        let found = slots.withLock { slots -> Found in
            switch slots[key] {
            case .reading(let group)?:
                return .wait(group)
            case .done(let node, let unseen)?:
                if unseen <= 1 { slots[key] = nil } else { slots[key] = .done(node, unseenLinks: unseen - 1) }
                return .node(node)
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
            return .first(publish: { [self] node in
                slots.withLock { slots in
                    slots[key] = linkCount > 1 ? .done(node, unseenLinks: linkCount - 1) : nil
                }
                group.leave()
            })
        case .wait(let group):
            group.wait()
            return claim(key, linkCount: linkCount)
        case .node(let node):
            return .readBefore(node)
        case .untracked:
            return .untracked
        }
    }
}
