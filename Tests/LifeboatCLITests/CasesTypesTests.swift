import Foundation
import Testing

/// Acceptance cases 004, 005, 006 and 007 (shared/cases): hard links, symlinks, sparse files,
/// FIFOs / sockets / device nodes, through the real binary.
extension Cases {
    @Suite struct Types {
        /// `inode nlink relative-path` for every regular file under `dir`, sorted by path.
        static func inodes(_ dir: String) throws -> [String: (inode: String, links: Int)] {
            var out: [String: (String, Int)] = [:]
            for line in try Lifeboat.sh("find '\(dir)' -type f -printf '%i %n %P\\n'").split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
                out[parts[2]] = (parts[0], Int(parts[1]) ?? -1)
            }
            return out
        }

        /// Groups of relative paths that share an inode, as a set of sets.
        static func linkGroups(_ dir: String) throws -> Set<Set<String>> {
            Set(Dictionary(grouping: try inodes(dir), by: { $0.value.inode }).values.map { Set($0.map(\.key)) })
        }

        static func checkLinkStructure(_ restored: String, source: String, sourceLocation: SourceLocation = #_sourceLocation)
            throws
        {
            let links = try inodes(restored)
            let expectedLinks = ["a/one": 3, "b/one-link": 3, "a/one-link2": 3, "a/two": 2, "b/two-link": 2, "solo": 1]
            for (path, count) in expectedLinks {
                #expect(links[path]?.links == count, "st_nlink of \(path): \(String(describing: links[path]))",
                    sourceLocation: sourceLocation)
            }
            let groupA = Set(["a/one", "b/one-link", "a/one-link2"].compactMap { links[$0]?.inode })
            let groupB = Set(["a/two", "b/two-link"].compactMap { links[$0]?.inode })
            #expect(groupA.count == 1, "group A does not share one inode: \(links)", sourceLocation: sourceLocation)
            #expect(groupB.count == 1, "group B does not share one inode: \(links)", sourceLocation: sourceLocation)
            #expect(groupA.isDisjoint(with: groupB), "groups A and B share an inode", sourceLocation: sourceLocation)
            #expect(try linkGroups(restored) == (try linkGroups(source)), sourceLocation: sourceLocation)
            #expect(try Lifeboat.treefp(source) == (try Lifeboat.treefp(restored)), sourceLocation: sourceLocation)
        }

        /// Case 004: hard-link groups come back as shared inodes; partial and repeated restores work.
        @Test func case004HardLinks() throws {
            let scratch = Scratch()
            let lifeboat = Lifeboat(scratch: scratch)
            let source = scratch.path("src")
            try Lifeboat.sh(
                """
                SRC='\(source)'
                mkdir -p "$SRC/hl/a" "$SRC/hl/b"
                head -c 1048576 /dev/urandom > "$SRC/hl/a/one"
                ln "$SRC/hl/a/one" "$SRC/hl/b/one-link"
                ln "$SRC/hl/a/one" "$SRC/hl/a/one-link2"
                head -c 4096 /dev/urandom > "$SRC/hl/a/two"
                ln "$SRC/hl/a/two" "$SRC/hl/b/two-link"
                printf 'solo\\n' > "$SRC/hl/solo"
                """)
            #expect(try lifeboat.run(["init"]).status == 0)
            let backup = try lifeboat.run(["backup", source])
            #expect(backup.status == 0, "backup: \(backup.output)")

            let target = scratch.path("restore")
            let restore = try lifeboat.run(["restore", "latest", "--target", target])
            #expect(restore.status == 0, "restore: \(restore.output)")
            let restored = target + source + "/hl"
            try Self.checkLinkStructure(restored, source: source + "/hl")
            let du = try Lifeboat.sh("du -sk '\(source)/hl' '\(restored)' | cut -f1").split(separator: "\n").compactMap {
                Double($0)
            }
            #expect(du.count == 2 && abs(du[1] - du[0]) <= du[0] * 0.10, "du -sk source vs restored: \(du)")

            // Only hl/b: both names are regular files with the right content.
            let partial = scratch.path("partial")
            let only = try lifeboat.run(["restore", "latest", "--target", partial, "--include", source + "/hl/b"])
            #expect(only.status == 0, "restore --include hl/b: \(only.output)")
            for (name, original) in [("one-link", "a/one"), ("two-link", "a/two")] {
                let path = partial + source + "/hl/b/" + name
                let type = try Lifeboat.exec(["stat", "-c", "%F", path]).stdout
                #expect(type == "regular file\n", "\(name) is \(type)")
                #expect(FileManager.default.contentsEqual(atPath: path, andPath: source + "/hl/" + original), "\(name) content")
            }
            #expect(!FileManager.default.fileExists(atPath: partial + source + "/hl/a"), "hl/a restored though not included")

            // The same full restore again over the restored tree.
            let again = try lifeboat.run(["restore", "latest", "--target", target])
            #expect(again.status == 0, "second restore over the first: \(again.output)")
            try Self.checkLinkStructure(restored, source: source + "/hl")
        }

        /// Case 005: relative, absolute, dangling, self, ancestor-loop, directory and long symlinks.
        @Test func case005Symlinks() throws {
            let scratch = Scratch()
            let lifeboat = Lifeboat(scratch: scratch)
            let source = scratch.path("src")
            try Lifeboat.sh(
                """
                SRC='\(source)'
                mkdir -p "$SRC/sl/dir/sub"
                printf 'target\\n' > "$SRC/sl/dir/file"
                ln -s file            "$SRC/sl/dir/rel-link"
                ln -s /etc/hostname   "$SRC/sl/abs-link"
                ln -s does-not-exist  "$SRC/sl/dangling"
                ln -s ../..           "$SRC/sl/dir/sub/loop-up"
                ln -s self            "$SRC/sl/self"
                ln -s dir             "$SRC/sl/dir-link"
                ln -s "$(printf 'x%.0s' $(seq 1000))" "$SRC/sl/long-target"
                touch -h -d '2001-02-03 04:05:06 UTC' "$SRC/sl/dir/rel-link"
                chown -h 4242:4343 "$SRC/sl/dangling"
                """)
            let hostnameBefore = try Lifeboat.sh("stat -c '%y' /etc/hostname")
            let links = ["dir/rel-link", "abs-link", "dangling", "dir/sub/loop-up", "self", "dir-link", "long-target"]
            #expect(try lifeboat.run(["init"]).status == 0)

            // Bounded: an endless walk fails the test instead of blocking it. strace shows whether
            // /etc/hostname is ever opened.
            let trace = scratch.path("strace.txt")
            let started = Date()
            let backup = try lifeboat.run(
                wrappedIn: ["timeout", "-k", "10", "60", "strace", "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", trace],
                ["backup", source + "/sl"])
            #expect(backup.status != 124, "backup did not finish within 60 s")
            #expect(backup.status == 0, "backup: \(backup.output)")
            #expect(Date().timeIntervalSince(started) < 60)
            let opens = (try? String(contentsOfFile: trace, encoding: .utf8)) ?? ""
            #expect(opens.contains("openat("), "strace recorded no opens (trace not taken?)")
            #expect(!opens.contains("\"/etc/hostname\""), "backup opened /etc/hostname")

            let entries = try lifeboat.entries("latest", source + "/sl")
            let symlinks = Set(entries.filter { $0.type == "symlink" }.map(\.pathString))
            #expect(symlinks == Set(links.map { source + "/sl/" + $0 }), "symlinks in snapshot: \(symlinks.sorted())")
            let descended = entries.map(\.pathString).filter { $0.contains("loop-up/") || $0.contains("dir-link/") }
            #expect(descended.isEmpty, "backup descended into a link: \(descended)")

            let target = scratch.path("restore")
            let restore = try lifeboat.run(["restore", "latest", "--target", target])
            #expect(restore.status == 0, "restore: \(restore.output)")
            let restored = target + source + "/sl"
            #expect(try Lifeboat.sh("find '\(restored)' -type l | wc -l") == "7\n")
            for link in links {
                let compare = try Lifeboat.exec([
                    "python3", "-c",
                    "import os,sys; a=os.readlink(os.fsencode(sys.argv[1])); b=os.readlink(os.fsencode(sys.argv[2])); sys.exit(0 if a==b else 'readlink %r != %r' % (b, a))",
                    source + "/sl/" + link, restored + "/" + link,
                ])
                #expect(compare.status == 0, "\(link): \(compare.stderr)")
            }
            for link in ["dir/rel-link", "dangling"] {
                let want = try Lifeboat.sh("stat -c '%y %u:%g' '\(source)/sl/\(link)'")
                let got = try Lifeboat.sh("stat -c '%y %u:%g' '\(restored)/\(link)'")
                #expect(got == want, "lstat of \(link)")
            }
            #expect(try Lifeboat.sh("stat -c '%y' /etc/hostname") == hostnameBefore, "/etc/hostname was modified")
        }

        /// Case 006: an 8 GiB sparse image, a fully allocated zero file and an all-hole file keep
        /// their contents, sizes, allocation and hole maps.
        @Test func case006SparseFiles() throws {
            let scratch = Scratch()
            let lifeboat = Lifeboat(scratch: scratch)
            let source = scratch.path("src")
            try Lifeboat.sh(
                """
                SRC='\(source)'
                mkdir -p "$SRC/sparse"
                f="$SRC/sparse/vm.img"
                truncate -s 8G "$f"
                printf 'HEAD' | dd of="$f" bs=1 seek=0 conv=notrunc status=none
                head -c 1M /dev/urandom | dd of="$f" bs=1M seek=4096 conv=notrunc status=none
                printf 'TAIL' | dd of="$f" bs=1 seek=$((8*1024*1024*1024-4)) conv=notrunc status=none
                dd if=/dev/zero of="$SRC/sparse/zeros-allocated" bs=1M count=64 status=none
                truncate -s 1G "$SRC/sparse/all-hole"
                sync -f "$SRC/sparse/vm.img"
                """)
            let files = ["vm.img", "zeros-allocated", "all-hole"]
            #expect(try lifeboat.run(["init"]).status == 0)
            // Run under a python parent whose /proc/self/io then includes the reaped child's rchar.
            let measured = try Lifeboat.exec(
                [
                    "python3", "-c",
                    """
                    import subprocess, sys
                    r = subprocess.run(sys.argv[1:])
                    io = dict(l.split(': ') for l in open('/proc/self/io').read().splitlines())
                    print('RCHAR', io['rchar'], file=sys.stderr); sys.exit(r.returncode)
                    """,
                    Lifeboat.binary, "--repo", lifeboat.repository, "--cache-dir", lifeboat.cache, "backup",
                    source + "/sparse",
                ], environment: ["LIFEBOAT_PASSWORD": lifeboat.password])
            #expect(measured.status == 0, "backup: \(measured.output)")
            let rchar = measured.stderr.split(separator: "\n").last { $0.hasPrefix("RCHAR ") }
                .flatMap { Int($0.dropFirst(6)) } ?? -1
            #expect(rchar >= 0 && rchar < 200 << 20, "backup read \(rchar) bytes (rchar) for 66 MiB of data")

            let target = scratch.path("restore")
            let restore = try lifeboat.run(["restore", "latest", "--target", target])
            #expect(restore.status == 0, "restore: \(restore.output)")
            let restored = target + source + "/sparse"
            try checkSparse(source: source + "/sparse", restored: restored, files: files)

            // Restore into a 2 GiB ext4 file system: 9 GiB apparent, about 66 MiB allocated.
            let image = scratch.path("small.img")
            let mount = scratch.path("mnt")
            try Lifeboat.sh("truncate -s 2G '\(image)' && mkfs.ext4 -q -F '\(image)' && mkdir -p '\(mount)'")
            let loop = try Lifeboat.sh("losetup -f --show '\(image)'").trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(loop.hasPrefix("/dev/loop"))
            defer {
                _ = try? Lifeboat.exec(["/bin/sh", "-c", "umount '\(mount)' 2>/dev/null; losetup -d '\(loop)'"])
            }
            try Lifeboat.sh("mount '\(loop)' '\(mount)'")
            let small = try lifeboat.run(
                ["restore", "latest", "--target", mount + "/r", "--include", source + "/sparse"])
            #expect(small.status == 0, "restore into a 2 GiB file system: \(small.output)")
            try checkSparse(source: source + "/sparse", restored: mount + "/r" + source + "/sparse", files: files)
        }

        func checkSparse(source: String, restored: String, files: [String], sourceLocation: SourceLocation = #_sourceLocation)
            throws
        {
            for name in files {
                let same = try Lifeboat.sameContent(source + "/" + name, restored + "/" + name)
                #expect(same.equal, "content of \(name): \(same.detail)", sourceLocation: sourceLocation)
                #expect(
                    try Lifeboat.sh("stat -c %s '\(restored)/\(name)'") == (try Lifeboat.sh("stat -c %s '\(source)/\(name)'")),
                    "size of \(name)", sourceLocation: sourceLocation)
                let want = Self.roundedHoleMap(try Lifeboat.holemap(source + "/" + name))
                let got = Self.roundedHoleMap(try Lifeboat.holemap(restored + "/" + name))
                #expect(got == want, "hole map of \(name)", sourceLocation: sourceLocation)
            }
            let blocks = { (path: String) in Int(try Lifeboat.sh("stat -c %b '\(path)'").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1 }
            let vmSource = try blocks(source + "/vm.img")
            let vmRestored = try blocks(restored + "/vm.img")
            #expect(vmRestored >= 0 && vmRestored <= vmSource + 2048, "vm.img allocates \(vmRestored) blocks, source \(vmSource)",
                sourceLocation: sourceLocation)
            #expect(try blocks(restored + "/all-hole") == 0, "all-hole has allocated blocks", sourceLocation: sourceLocation)
            let zeros = try blocks(restored + "/zeros-allocated")
            #expect(zeros >= 131072, "zeros-allocated has only \(zeros) blocks allocated", sourceLocation: sourceLocation)
        }

        /// Data segments rounded out to 4 KiB blocks and merged where they touch.
        static func roundedHoleMap(_ map: String) -> [[Int]] {
            var out: [[Int]] = []
            for line in map.split(separator: "\n") {
                let parts = line.split(separator: " ").compactMap { Int($0) }
                guard parts.count == 2 else { continue }
                let start = parts[0] / 4096 * 4096
                let end = (parts[1] + 4095) / 4096 * 4096
                if let last = out.last, last[1] >= start { out[out.count - 1][1] = max(last[1], end) } else { out.append([start, end]) }
            }
            return out
        }

        /// Case 007: a FIFO must not hang the backup; FIFO and device nodes come back; a socket is
        /// recreated or skipped with one warning; the entries around them are restored.
        @Test func case007FifoSocketDevice() throws {
            let scratch = Scratch()
            let lifeboat = Lifeboat(scratch: scratch)
            let source = scratch.path("src")
            try Lifeboat.sh(
                """
                SRC='\(source)'
                mkdir -p "$SRC/special"
                printf 'before\\n' > "$SRC/special/a-before"
                mkfifo -m 0640 "$SRC/special/b-fifo" && chown 123:456 "$SRC/special/b-fifo"
                python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SRC/special/c-socket"
                mknod -m 0600 "$SRC/special/d-chardev" c 1 3
                mknod -m 0660 "$SRC/special/e-blockdev" b 7 200
                printf 'after\\n' > "$SRC/special/f-after"
                """)
            let dir = source + "/special"
            #expect(try lifeboat.run(["init"]).status == 0)
            let trace = scratch.path("strace.txt")
            let backup = try lifeboat.run(
                wrappedIn: ["timeout", "-k", "10", "120", "strace", "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", trace],
                ["backup", dir])
            #expect(backup.status != 124, "backup hung (timed out after 120 s)")
            #expect(backup.status == 0, "backup: \(backup.output)")
            // The FIFO is never opened for reading (an O_PATH open does not read).
            let traced = (try? String(contentsOfFile: trace, encoding: .utf8)) ?? ""
            #expect(traced.contains("openat("), "strace recorded no opens (trace not taken?)")
            let fifoOpens = traced.split(separator: "\n")
                .filter { $0.contains("b-fifo") && !$0.contains("O_PATH") }
            #expect(fifoOpens.isEmpty, "backup opened the FIFO: \(fifoOpens)")

            let entries = Dictionary(
                try lifeboat.entries("latest", dir).map { ($0.pathString, $0) }, uniquingKeysWith: { a, _ in a })
            let expectedTypes = [
                "b-fifo": ("fifo", 0o640, 123, 456), "c-socket": ("socket", -1, 0, 0),
                "d-chardev": ("chardev", 0o600, 0, 0), "e-blockdev": ("blockdev", 0o660, 0, 0),
            ]
            for (name, (type, mode, uid, gid)) in expectedTypes {
                let entry = entries[dir + "/" + name]
                #expect(entry?.type == type, "\(name) recorded as \(entry?.type ?? "nothing")")
                if mode >= 0 { #expect(entry.map { $0.mode & 0o7777 } == mode, "mode of \(name): \(String(describing: entry?.object))") }
                #expect(entry?.uid == uid && entry?.gid == gid, "owner of \(name): \(String(describing: entry?.object))")
            }

            let target = scratch.path("restore")
            let restore = try lifeboat.run(["restore", "latest", "--target", target])
            let restored = target + dir
            var missing: [String] = []
            for name in ["b-fifo", "d-chardev", "e-blockdev"] {
                let want = try Lifeboat.sh("stat -c '%F|%Hr:%Lr|%a|%u:%g' '\(dir)/\(name)'")
                let got = try Lifeboat.exec(["stat", "-c", "%F|%Hr:%Lr|%a|%u:%g", restored + "/" + name]).stdout
                #expect(got == want, "\(name): restored as \(got), source \(want)")
                if got != want { missing.append(name) }
            }
            // The socket: recreated as a socket, or skipped with exactly one message naming it.
            let socketType = try Lifeboat.exec(["stat", "-c", "%F", restored + "/c-socket"]).stdout
            if socketType != "socket\n" {
                let mentions = restore.output.split(separator: "\n").filter { $0.contains("c-socket") }
                #expect(mentions.count == 1, "socket neither restored nor reported once: \(restore.output)")
            }
            #expect(FileManager.default.contents(atPath: restored + "/a-before") == Data("before\n".utf8))
            #expect(FileManager.default.contents(atPath: restored + "/f-after") == Data("after\n".utf8))
            if missing.isEmpty {
                #expect(restore.status == 0, "restore: \(restore.output)")
            } else {
                #expect(restore.status != 0, "restore exited 0 though \(missing) could not be created")
            }
        }
    }
}
