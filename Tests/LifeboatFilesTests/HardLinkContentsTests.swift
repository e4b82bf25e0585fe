import LifeboatRepository
import Testing

@testable import LifeboatFiles

@Suite struct HardLinkContentsTests {
    let key = HardLinkContents.Key(device: 1, inode: 42)
    let node = SharedContent(path: Array("/first".utf8), node: Node(name: Array("first".utf8), kind: .file, size: 7, inode: 42, linkCount: 3))

    @Test func laterNamesGetTheFirstNodeUntilEveryLinkIsSeen() throws {
        let links = HardLinkContents()
        guard case .first(let publish) = links.claim(key, linkCount: 3) else { Issue.record("not first"); return }
        publish(node)
        for _ in 0..<2 {
            guard case .readBefore(let seen) = links.claim(key, linkCount: 3) else { Issue.record("not shared"); return }
            #expect(seen == node)
        }
        // All three links seen: the entry is gone, so a fourth claim (a new inode reusing the number) reads.
        guard case .first = links.claim(key, linkCount: 3) else { Issue.record("entry kept"); return }
    }

    @Test func aFailedFirstReadIsPassedOnAsNil() throws {
        let links = HardLinkContents()
        guard case .first(let publish) = links.claim(key, linkCount: 2) else { Issue.record("not first"); return }
        publish(nil)
        guard case .readBefore(nil) = links.claim(key, linkCount: 2) else { Issue.record("not nil"); return }
    }

    @Test func aClaimDuringTheFirstReadWaitsForIt() async throws {
        let links = HardLinkContents()
        guard case .first(let publish) = links.claim(key, linkCount: 2) else { Issue.record("not first"); return }
        let waiter = Task.detached { [key] in
            if case .readBefore(let seen) = links.claim(key, linkCount: 2) { return seen }
            return nil
        }
        publish(node)
        #expect(await waiter.value == node)
    }

    @Test func pastCapacityNamesAreReadUntracked() throws {
        let links = HardLinkContents(capacity: 1)
        guard case .first = links.claim(key, linkCount: 2) else { Issue.record("not first"); return }
        guard case .untracked = links.claim(.init(device: 1, inode: 43), linkCount: 2) else { Issue.record("tracked"); return }
    }
}

@Suite struct SharedContentTests {
    @Test func anotherNameGetsTheStoredContentAndTimesButKeepsItsName() throws {
        let chunk = try #require(BlobID(bytes: Array(repeating: 7, count: 32)))
        let first = Node(
            name: Array("a".utf8), kind: .file, mode: 0o644, mtime: Timestamp(seconds: 10, nanoseconds: 5),
            size: 3, inode: 9, linkCount: 2, xattrs: [ExtendedAttribute(name: Array("user.x".utf8), value: [1])],
            flags: 0x10, content: [chunk])
        var later = Node(name: Array("b".utf8), kind: .file, mode: 0o600, mtime: Timestamp(seconds: 11, nanoseconds: 0),
                         size: 99, inode: 9, linkCount: 2)
        later = SharedContent(path: Array("/x/a".utf8), node: first).applied(to: later)
        #expect(later.name == Array("b".utf8) && later.mode == 0o600)
        #expect(later.size == 3 && later.mtime == first.mtime && later.content == first.content)
        #expect(later.xattrs == first.xattrs && later.flags == 0x10)
    }
}
