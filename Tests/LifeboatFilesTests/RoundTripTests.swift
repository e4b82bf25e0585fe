import Foundation
import Glibc
import LifeboatRepository
import LifeboatSystem
import Testing

@testable import LifeboatFiles

/// Round trips of real trees under /tmp (the cases in shared/cases). Serialized: some tests
/// change the effective uid or mount file systems.
@Suite(.serialized) struct RoundTripTests {
    @Test func oddNames() throws {  // case 001
        try Scratch.with { s in
            #expect(s.run("""
                mkdir -p "$SRC/names" && cd "$SRC/names"
                printf 'latin1\\n'  > $'kokosnu\\xdf.txt'
                printf 'bytes\\n'   > $'bad\\x80\\xff'
                printf 'nl\\n'      > $'line1\\nfile has vanished: fake'
                printf 'trail\\n'   > $'trailing-newline\\n'
                printf 'tab\\n'     > $'tab\\there'
                printf 'esc\\n'     > $'esc\\e[31mred'
                printf 'cr\\n'      > $'cr\\rname'
                printf 'bs\\n'      > 'back\\slash'
                printf 'dash\\n'    > '-rf --help'
                mkdir $'dir\\xe9' && printf 'inner\\n' > $'dir\\xe9/x\\xfe'
                printf 'after\\n'   > zzz-after.txt
                """) == 0)
            let store = MemoryStore()
            let summary = try backup(store, [s.src + "/names"])
            #expect(summary.issues.isEmpty)
            let names = try #require(try store.node(at: s.src + "/names", root: summary.root))
            let tree = try store.loadTree(try #require(names.subtree))
            #expect(tree.nodes.count == 11)
            #expect(tree.node(named: [0x6b, 0x6f, 0x6b, 0x6f, 0x73, 0x6e, 0x75, 0xdf, 0x2e, 0x74, 0x78, 0x74]) != nil)
            for node in tree.nodes { #expect(!escapedForDisplay(node.name).contains { $0 == "\n" || $0 == "\r" || $0 == "\u{1b}" }) }
            _ = try restore(store, summary.root, to: s.dst)
            #expect(treefp(s.src + "/names") == treefp(s.restoredSrc + "/names"))
        }
    }

    @Test func namesAndPathsBeyondLimits() throws {  // case 002
        try Scratch.with { s in
            #expect(s.run("""
                mkdir -p "$SRC/long" && cd "$SRC/long"
                n255=$(printf 'a%.0s' $(seq 255)); d250=$(printf 'd%.0s' $(seq 250))
                printf 'max-name\\n' > "$n255"
                for i in $(seq 10 29); do mkdir "$d250$i"; cd "$d250$i"; done
                printf 'deep\\n' > "$n255"
                """) == 0)
            let store = MemoryStore()
            let summary = try backup(store, [s.src + "/long"])
            #expect(summary.issues.isEmpty)
            #expect(summary.filesNew == 2)
            // A target of about 200 bytes.
            let target = s.dst + "/" + String(repeating: "r", count: 190 - s.dst.count)
            let result = try restore(store, summary.root, to: target)
            #expect(result.issues.isEmpty)
            #expect(result.files == 2)
            #expect(treefp(s.src + "/long") == treefp(target + s.src + "/long"))
        }
    }

    @Test func specialFiles() throws {  // case 007
        try Scratch.with { s in
            #expect(s.run("""
                mkdir -p "$SRC/special"
                printf 'before\\n' > "$SRC/special/a-before"
                mkfifo -m 0640 "$SRC/special/b-fifo" && chown 123:456 "$SRC/special/b-fifo"
                python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SRC/special/c-socket"
                mknod -m 0600 "$SRC/special/d-chardev" c 1 3
                mknod -m 0660 "$SRC/special/e-blockdev" b 7 200
                printf 'after\\n' > "$SRC/special/f-after"
                """) == 0)
            let store = MemoryStore()
            let summary = try backup(store, [s.src + "/special"])
            #expect(summary.issues.isEmpty)
            #expect(try store.node(at: s.src + "/special/b-fifo", root: summary.root)?.kind == .fifo)
            #expect(try store.node(at: s.src + "/special/c-socket", root: summary.root)?.kind == .socket)
            let chr = try #require(try store.node(at: s.src + "/special/d-chardev", root: summary.root))
            #expect(chr.kind == .characterDevice && chr.rdev == FileStatus.makeDevice(major: 1, minor: 3))
            let result = try restore(store, summary.root, to: s.dst)
            #expect(result.issues.count == 1)
            #expect(result.issues.first?.path.hasSuffix("c-socket") == true)
            let fmt = "stat -c '%n|%F|%Hr:%Lr|%a|%u:%g'"
            for name in ["b-fifo", "d-chardev", "e-blockdev"] {
                #expect(output("cd '\(s.src)/special' && \(fmt) \(name)") == output("cd '\(s.restoredSrc)/special' && \(fmt) \(name)"))
            }
            #expect(sh("cmp '\(s.src)/special/f-after' '\(s.restoredSrc)/special/f-after'") == 0)
            #expect(sh("cmp '\(s.src)/special/a-before' '\(s.restoredSrc)/special/a-before'") == 0)
        }
    }

    @Test func capabilitiesAndSetuid() throws {  // case 009
        try Scratch.with { s in
            #expect(s.run("""
                mkdir -p "$SRC/caps"
                cp /bin/true "$SRC/caps/pingish"; chown 1234:1234 "$SRC/caps/pingish"
                setcap cap_net_raw+ep "$SRC/caps/pingish"; setfattr -n user.note -v hello "$SRC/caps/pingish"
                cp /bin/true "$SRC/caps/suid"; chown 1234:2345 "$SRC/caps/suid" && chmod 6755 "$SRC/caps/suid"
                setfattr -n trusted.tag -v secret "$SRC/caps/suid"
                mkdir "$SRC/caps/sgid-dir" && chown 1234:2345 "$SRC/caps/sgid-dir" && chmod 2775 "$SRC/caps/sgid-dir"
                chmod 1777 "$SRC/caps"
                # An existing file owned by someone else in the way of the restore.
                mkdir -p "$DST$SRC/caps" && cp /bin/true "$DST$SRC/caps/suid" && chown 4321:4321 "$DST$SRC/caps/suid"
                """) == 0)
            let store = MemoryStore()
            let summary = try backup(store, [s.src + "/caps"])
            #expect(summary.issues.isEmpty)
            _ = try restore(store, summary.root, to: s.dst)
            #expect(output("getcap '\(s.restoredSrc)/caps/pingish'").contains("cap_net_raw=ep"))
            #expect(output("stat -c '%a %u:%g' '\(s.restoredSrc)/caps/suid'") == "6755 1234:2345\n")
            #expect(output("stat -c '%a %u:%g' '\(s.restoredSrc)/caps/sgid-dir'") == "2775 1234:2345\n")
            #expect(output("stat -c '%a' '\(s.restoredSrc)/caps'") == "1777\n")
            let dump = "getfattr -d -m - -e hex --absolute-names"
            #expect(output("cd '\(s.src)/caps' && \(dump) pingish suid") == output("cd '\(s.restoredSrc)/caps' && \(dump) pingish suid"))
            #expect(treefp(s.src + "/caps") == treefp(s.restoredSrc + "/caps"))
        }
    }

    @Test func nanosecondTimes() throws {  // case 011
        try Scratch.with { s in
            #expect(s.run("""
                mkdir -p "$SRC/ns/d"
                for i in 1 2 3 4 5; do printf '%s\\n' "$i" > "$SRC/ns/f$i"; done
                touch -m -d '2018-07-11 22:49:28.728542758 UTC' "$SRC/ns/f1"
                touch -m -d '2018-07-11 22:49:28.000000001 UTC' "$SRC/ns/f2"
                touch -m -d '2018-07-11 22:49:28.999999999 UTC' "$SRC/ns/f3"
                touch -m -d '1960-02-03 04:05:06.123456789 UTC' "$SRC/ns/f4"
                touch -m -d '2100-01-01 00:00:00.987654321 UTC' "$SRC/ns/f5"
                touch -a -d '2019-01-01 00:00:00.123456789 UTC' "$SRC/ns/f1"
                ln -s f1 "$SRC/ns/l" && touch -h -d '2016-06-06 06:06:06.666666666 UTC' "$SRC/ns/l"
                touch -d '2017-05-05 05:05:05.555555555 UTC' "$SRC/ns/d"
                """) == 0)
            let store = MemoryStore()
            let summary = try backup(store, [s.src + "/ns"])
            _ = try restore(store, summary.root, to: s.dst)
            for name in ["f1", "f2", "f3", "f4", "f5", "l", "d"] {
                #expect(output("stat -c %y '\(s.src)/ns/\(name)'") == output("stat -c %y '\(s.restoredSrc)/ns/\(name)'"))
            }
            #expect(output("stat -c %x '\(s.src)/ns/f1'") == output("stat -c %x '\(s.restoredSrc)/ns/f1'"))
            #expect(treefp(s.src + "/ns") == treefp(s.restoredSrc + "/ns"))
            // Restoring in place and backing up again: nothing changed (ctimes moved, content did not).
            _ = try restore(store, summary.root, to: "/")
            let again = try backup(store, [s.src + "/ns"]) { $0.parentRoot = summary.root }
            #expect(again.filesChanged == 0 && again.filesNew == 0)
            #expect(treefp(s.src + "/ns") == treefp(s.restoredSrc + "/ns"))
        }
    }

    @Test func aclsOnDirectories() throws {  // case 013
        try Scratch.with { s in
            #expect(s.run("""
                mkdir -p "$SRC/acl/shared/sub"
                printf 'x\\n' > "$SRC/acl/shared/file"
                setfacl -m u:4242:rwx,g:4343:r-x "$SRC/acl/shared"
                setfacl -d -m u:4242:rwx,g:4343:r-x,o::- "$SRC/acl/shared"
                setfacl -d -m u:4242:r-x "$SRC/acl/shared/sub"
                setfacl -m u:4242:rw-,m::r-- "$SRC/acl/shared/file"
                """) == 0)
            let store = MemoryStore()
            let summary = try backup(store, [s.src + "/acl"])
            for _ in 0..<2 {  // the second restore goes over the first one
                _ = try restore(store, summary.root, to: s.dst)
                #expect(output("cd '\(s.src)' && getfacl -pnR acl") == output("cd '\(s.restoredSrc)' && getfacl -pnR acl"))
                #expect(treefp(s.src + "/acl") == treefp(s.restoredSrc + "/acl"))
            }
        }
    }

    @Test func inodeFlags() throws {  // case 014
        try Scratch.with { s in
            #expect(s.run("""
                mkdir -p "$SRC/flags"
                printf 'locked\\n' > "$SRC/flags/immutable"; setfattr -n user.k -v v "$SRC/flags/immutable"
                chmod 0444 "$SRC/flags/immutable"; touch -d '2005-05-05 05:05:05 UTC' "$SRC/flags/immutable"
                printf 'log line\\n' > "$SRC/flags/append-only"
                # Hard links to locked files: link(2) refuses once the flags are set.
                mkdir "$SRC/flags/links" && ln "$SRC/flags/immutable" "$SRC/flags/links/imm" && ln "$SRC/flags/append-only" "$SRC/flags/links/app"
                chattr +i "$SRC/flags/immutable" && chattr +a "$SRC/flags/append-only"
                mkdir "$SRC/flags/imm-dir" && printf 'in\\n' > "$SRC/flags/imm-dir/inside"
                touch -d '2006-06-06 UTC' "$SRC/flags/imm-dir" && chattr +i "$SRC/flags/imm-dir"
                """) == 0)
            let store = MemoryStore()
            let summary = try backup(store, [s.src + "/flags"])
            #expect(summary.issues.isEmpty)
            let lsattr = "cd '%@/flags' && lsattr -d immutable append-only imm-dir imm-dir/inside links/imm links/app | cut -c1-22"
            for round in 0..<2 {  // the second restore goes over immutable files
                let result = try restore(store, summary.root, to: s.dst)
                #expect(result.issues.isEmpty, "round \(round): \(result.issues)")
                #expect(output(lsattr.replacingOccurrences(of: "%@", with: s.src))
                        == output(lsattr.replacingOccurrences(of: "%@", with: s.restoredSrc)))
                #expect(treefp(s.src + "/flags") == treefp(s.restoredSrc + "/flags"))
            }
            #expect(output("lsattr -d '\(s.restoredSrc)/flags/immutable' | cut -c1-22").contains("i"))
            let inodes = "stat -c %i '%@/flags/immutable' '%@/flags/links/imm' '%@/flags/append-only' '%@/flags/links/app'"
            let restored = output(inodes.replacingOccurrences(of: "%@", with: s.restoredSrc)).split(separator: "\n")
            #expect(restored.count == 4 && restored[0] == restored[1] && restored[2] == restored[3], "\(restored)")
        }
    }

    @Test func sparseFiles() throws {  // case 006 (scaled down)
        try Scratch.with { s in
            #expect(s.run("""
                mkdir -p "$SRC/sparse"; f="$SRC/sparse/vm.img"
                truncate -s 256M "$f"
                printf 'HEAD' | dd of="$f" bs=1 seek=0 conv=notrunc status=none
                head -c 1M /dev/urandom | dd of="$f" bs=1M seek=128 conv=notrunc status=none
                printf 'TAIL' | dd of="$f" bs=1 seek=$((256*1024*1024-4)) conv=notrunc status=none
                dd if=/dev/zero of="$SRC/sparse/zeros-allocated" bs=1M count=8 status=none
                truncate -s 256M "$SRC/sparse/all-hole"
                """) == 0)
            let store = MemoryStore()
            let summary = try backup(store, [s.src + "/sparse"])
            #expect(summary.bytesRead < 32 << 20)
            #expect(try store.node(at: s.src + "/sparse/zeros-allocated", root: summary.root)?.extents == nil)
            #expect(try store.node(at: s.src + "/sparse/all-hole", root: summary.root)?.extents == [])
            _ = try restore(store, summary.root, to: s.dst)
            for name in ["vm.img", "zeros-allocated", "all-hole"] {
                let a = "\(s.src)/sparse/\(name)", b = "\(s.restoredSrc)/sparse/\(name)"
                #expect(sh("cmp '\(a)' '\(b)'") == 0)
                #expect(holemap(a) == holemap(b))
            }
            #expect(output("stat -c %b '\(s.restoredSrc)/sparse/all-hole'") == "0\n")
            #expect((Int(output("stat -c %b '\(s.restoredSrc)/sparse/zeros-allocated'").dropLast()) ?? 0) >= 16384)
            #expect(treefp(s.src + "/sparse") == treefp(s.restoredSrc + "/sparse"))
        }
    }

    @Test func hardLinks() throws {  // case 004
        try Scratch.with { s in
            #expect(s.run("""
                mkdir -p "$SRC/hl/a" "$SRC/hl/b"
                head -c 1048576 /dev/urandom > "$SRC/hl/a/one"
                ln "$SRC/hl/a/one" "$SRC/hl/b/one-link"; ln "$SRC/hl/a/one" "$SRC/hl/a/one-link2"
                head -c 4096 /dev/urandom > "$SRC/hl/a/two"; ln "$SRC/hl/a/two" "$SRC/hl/b/two-link"
                printf 'solo\\n' > "$SRC/hl/solo"
                """) == 0)
            let store = MemoryStore()
            let summary = try backup(store, [s.src + "/hl"])
            let groups = "cd '%@/hl' && for f in a/one b/one-link a/one-link2 a/two b/two-link solo; do stat -c %h $f; done; find . -type f -printf '%i %P\\n' | sort -n | awk '{print $1}' | uniq -c | awk '{print $1}' | sort"
            for _ in 0..<2 {
                let result = try restore(store, summary.root, to: s.dst)
                #expect(result.issues.isEmpty)
                #expect(output(groups.replacingOccurrences(of: "%@", with: s.src))
                        == output(groups.replacingOccurrences(of: "%@", with: s.restoredSrc)))
                #expect(treefp(s.src + "/hl") == treefp(s.restoredSrc + "/hl"))
            }
            // Only hl/b: regular files with the right content.
            let partial = s.base + "/partial"
            _ = try restore(store, summary.root, to: partial) { $0.includes = [s.src + "/hl/b"] }
            #expect(sh("cmp '\(s.src)/hl/a/one' '\(partial)\(s.src)/hl/b/one-link' && cmp '\(s.src)/hl/a/two' '\(partial)\(s.src)/hl/b/two-link'") == 0)
            #expect(sh("test ! -e '\(partial)\(s.src)/hl/a'") == 0)
        }
    }

    @Test func symlinks() throws {  // case 005
        try Scratch.with { s in
            #expect(s.run("""
                mkdir -p "$SRC/sl/dir/sub"
                printf 'target\\n' > "$SRC/sl/dir/file"
                ln -s file "$SRC/sl/dir/rel-link"; ln -s /etc/hostname "$SRC/sl/abs-link"
                ln -s does-not-exist "$SRC/sl/dangling"; ln -s ../.. "$SRC/sl/dir/sub/loop-up"
                ln -s self "$SRC/sl/self"; ln -s dir "$SRC/sl/dir-link"
                ln -s "$(printf 'x%.0s' $(seq 1000))" "$SRC/sl/long-target"
                touch -h -d '2001-02-03 04:05:06 UTC' "$SRC/sl/dir/rel-link"
                chown -h 4242:4343 "$SRC/sl/dangling"
                setfattr -h -n trusted.linkattr -v on-link "$SRC/sl/dangling"
                """) == 0)
            let store = MemoryStore()
            let summary = try backup(store, [s.src + "/sl"])
            #expect(summary.others == 7)
            _ = try restore(store, summary.root, to: s.dst)
            #expect(output("find '\(s.restoredSrc)/sl' -type l | wc -l") == "7\n")
            #expect(output("getfattr -h -n trusted.linkattr --only-values '\(s.restoredSrc)/sl/dangling'") == "on-link")
            #expect(treefp(s.src + "/sl") == treefp(s.restoredSrc + "/sl"))
            // A symlink given as a backup path is stored as a link.
            let linkOnly = try backup(MemoryStore(), [s.src + "/sl/dir-link"])
            #expect(linkOnly.others == 1 && linkOnly.filesNew == 0)
        }
    }

    /// Reading a link sets its atime (relatime: the first time after a change); a second
    /// backup of an untouched tree must still give the same tree, or every no-change backup of
    /// a tree of links stores its directories again.
    @Test func backingUpSymlinksLeavesTheTreeUnchanged() throws {
        try Scratch.with { s in
            #expect(s.run("""
                mkdir -p "$SRC/links/sub"
                for i in $(seq 1 30); do ln -s "target-$i" "$SRC/links/l$i"; ln -s "../t$i" "$SRC/links/sub/l$i"; done
                printf 'x\n' > "$SRC/links/file"
                """) == 0)
            let store = MemoryStore()
            let first = try backup(store, [s.src + "/links"])
            let second = try backup(store, [s.src + "/links"]) { $0.parentRoot = first.root }
            #expect(second.root == first.root, "a second backup of an untouched tree of links gave a new tree")
        }
    }

    @Test func rerunRemovesTemporariesOfAKilledRestore() throws {
        try Scratch.with { s in
            #expect(s.run("""
                mkdir -p "$SRC/t/sub" && printf 'a\\n' > "$SRC/t/sub/a"
                mkdir -p "$DST$SRC/t/sub"
                head -c 100000 /dev/urandom > "$DST$SRC/t/sub/.lb-0123456789ab.tmp"
                printf 'mine\\n' > "$DST$SRC/t/sub/.lb-notours.tmp"
                sleep 0.3
                """) == 0)
            let store = MemoryStore()
            let summary = try backup(store, [s.src + "/t"])
            let result = try restore(store, summary.root, to: s.dst)
            #expect(result.issues.isEmpty)
            // The leftover of the temporary form goes; a user's file that only looks alike stays.
            #expect(output("ls -A '\(s.dst)\(s.src)/t/sub'") == ".lb-notours.tmp\na\n")
        }
    }

    @Test func plantedSymlinksInTarget() throws {  // case 027
        try Scratch.with { s in
            let victim = s.base + "/victim"
            #expect(s.run("""
                mkdir -p "$SRC/trav/sub"; printf 'snapshot data\\n' > "$SRC/trav/x"; printf 'nested\\n' > "$SRC/trav/sub/y"
                mkdir -p "$DST$SRC/trav" '\(victim)-dir'
                printf 'precious\\n' > '\(victim)'; touch -d '2000-01-01 UTC' '\(victim)'
                printf 'precious\\n' > '\(victim)-dir/y'
                ln -s '\(victim)' "$DST$SRC/trav/x"; ln -s '\(victim)-dir' "$DST$SRC/trav/sub"
                """) == 0)
            let store = MemoryStore()
            let summary = try backup(store, [s.src + "/trav"])
            let result = try restore(store, summary.root, to: s.dst)
            #expect(result.issues.isEmpty)
            #expect(output("cat '\(victim)' '\(victim)-dir/y'") == "precious\nprecious\n")
            #expect(output("stat -c %Y '\(victim)'") == "946684800\n")
            #expect(sh("test -f '\(s.restoredSrc)/trav/x' -a ! -L '\(s.restoredSrc)/trav/x' -a -d '\(s.restoredSrc)/trav/sub' -a ! -L '\(s.restoredSrc)/trav/sub'") == 0)
            #expect(output("cat '\(s.restoredSrc)/trav/x' '\(s.restoredSrc)/trav/sub/y'") == "snapshot data\nnested\n")
        }
    }

    @Test func parentReuseReadsNothing() throws {
        try Scratch.with { s in
            #expect(s.run("""
                mkdir -p "$SRC/data/a/b" "$SRC/data/c"
                for i in $(seq 1 20); do head -c $((i * 3000)) /dev/urandom > "$SRC/data/a/f$i"; done
                head -c 300000 /dev/urandom > "$SRC/data/a/b/big"; printf 'c\\n' > "$SRC/data/c/small"
                """) == 0)
            let store = MemoryStore()
            let first = try backup(store, [s.src + "/data"])
            #expect(first.filesNew == 22)
            let second = try backup(store, [s.src + "/data"]) { $0.parentRoot = first.root }
            #expect(second.filesRead == 0 && second.bytesRead == 0)
            #expect(second.filesUnchanged == 22)
            // Only atimes could differ; the trees are otherwise the same.
            #expect(try store.node(at: s.src + "/data/a/b/big", root: second.root)?.content
                    == store.node(at: s.src + "/data/a/b/big", root: first.root)?.content)
            let forced = try backup(store, [s.src + "/data"]) { $0.parentRoot = first.root; $0.force = true }
            #expect(forced.bytesRead > 0 && forced.filesUnchanged == 22 && forced.filesChanged == 0)
            #expect(sh("echo more >> '\(s.src)/data/c/small'") == 0)
            let third = try backup(store, [s.src + "/data"]) { $0.parentRoot = second.root }
            #expect(third.filesRead == 1 && third.filesUnchanged == 21)
        }
    }

    @Test func changedPathsOnlyRereadsThose() throws {
        try Scratch.with { s in
            #expect(s.run("""
                mkdir -p "$SRC/j/keep/deep" "$SRC/j/work" "$SRC/j/gone"
                for i in 1 2 3; do printf "$i\\n" > "$SRC/j/keep/k$i"; printf "w$i\\n" > "$SRC/j/work/w$i"; done
                printf 'deep\\n' > "$SRC/j/keep/deep/d"; printf 'x\\n' > "$SRC/j/gone/x"
                """) == 0)
            let store = MemoryStore()
            let first = try backup(store, [s.src + "/j"])
            // Changes the journal reports, plus one it does not (which must be ignored).
            #expect(s.run("""
                printf 'changed\\n' > "$SRC/j/work/w1"; printf 'new\\n' > "$SRC/j/work/new"
                rm -r "$SRC/j/gone"; printf 'unreported\\n' > "$SRC/j/keep/k1"
                """) == 0)
            let second = try backup(store, [s.src + "/j"]) { options in
                options.parentRoot = first.root
                options.changedPaths = [s.src + "/j/work/w1", s.src + "/j/work/new", s.src + "/j/gone"]
            }
            #expect(second.filesRead == 2)
            let keepBefore = try store.node(at: s.src + "/j/keep", root: first.root)
            let keepAfter = try store.node(at: s.src + "/j/keep", root: second.root)
            #expect(keepBefore?.subtree == keepAfter?.subtree)
            #expect(keepBefore == keepAfter)
            #expect(try store.node(at: s.src + "/j/gone", root: second.root) == nil)
            #expect(try store.node(at: s.src + "/j/work/new", root: second.root) != nil)
            #expect(try store.node(at: s.src + "/j/work/w2", root: second.root)
                    == store.node(at: s.src + "/j/work/w2", root: first.root))
            _ = try restore(store, second.root, to: s.dst)
            #expect(output("cat '\(s.restoredSrc)/j/work/w1' '\(s.restoredSrc)/j/keep/k1'") == "changed\n1\n")
        }
    }

    @Test func hardLinkedNamesAreReadOnce() throws {
        try Scratch.with { s in
            #expect(s.run("""
                mkdir -p "$SRC/h/x" "$SRC/h/y" "$SRC/outside"
                head -c 3000000 /dev/urandom > "$SRC/h/x/one"
                ln "$SRC/h/x/one" "$SRC/h/y/two"; ln "$SRC/h/x/one" "$SRC/h/three"
                ln "$SRC/h/x/one" "$SRC/outside/four"
                head -c 1000 /dev/urandom > "$SRC/h/single"
                """) == 0)
            let store = MemoryStore()
            let summary = try backup(store, [s.src + "/h"])
            // Three names inside the backup (a fourth outside it): one read of the content.
            #expect(summary.bytesRead == 3_001_000)
            #expect(summary.filesNew == 4 && summary.totalSize == 9_001_000)
            let one = try #require(try store.node(at: s.src + "/h/x/one", root: summary.root))
            for (path, name) in [("/h/y/two", "two"), ("/h/three", "three")] {
                let other = try #require(try store.node(at: s.src + path, root: summary.root))
                #expect(other.content == one.content && other.inode == one.inode && other.size == one.size)
                #expect(other.name == Array(name.utf8))
            }
            let result = try restore(store, summary.root, to: s.dst)
            #expect(result.issues.isEmpty)
            #expect(s.run("""
                [ "$(stat -c %i "$DST$SRC/h/x/one")" = "$(stat -c %i "$DST$SRC/h/three")" ] && cmp "$SRC/h/x/one" "$DST$SRC/h/y/two"
                """) == 0)
        }
    }

    @Test func multiplePathsMergeUnderOneRoot() throws {
        try Scratch.with { s in
            #expect(s.run("mkdir -p \"$SRC/one\" \"$SRC/two\"; echo 1 > \"$SRC/one/f\"; echo 2 > \"$SRC/two/g\"; echo skip > \"$SRC/one/skip.tmp\"") == 0)
            let store = MemoryStore()
            let summary = try backup(store, [s.src + "/one", s.src + "/two/", s.src + "/one/../two"]) {
                $0.excludes = ["*.tmp"]
            }
            #expect(summary.filesNew == 2)
            let srcNode = try #require(try store.node(at: s.src, root: summary.root))
            #expect(try store.loadTree(try #require(srcNode.subtree)).nodes.map(\.name) == [Array("one".utf8), Array("two".utf8)])
            // The ancestors carry their real metadata.
            let status = try fileStatus(at: nil, Array(s.src.utf8))
            #expect(srcNode.mtime == Timestamp(seconds: status.mtime.seconds, nanoseconds: status.mtime.nanoseconds))
        }
    }

    @Test func missingRootThrows() throws {
        let store = MemoryStore()
        #expect(throws: SystemError.self) { try backup(store, ["/nonexistent-lifeboat/path"]) }
        do {
            _ = try backup(store, ["/tmp/nonexistent-lifeboat-root"])
        } catch {
            #expect("\(error)".contains("/tmp/nonexistent-lifeboat-root"))
        }
    }
}
