import Foundation
import Testing

/// Acceptance cases 001 and 002 (shared/cases): odd file names, through the real binary.
extension Cases {
    @Suite struct Names {
        /// The 12 entries of case 001's recipe, relative to `names/`, as raw bytes.
        static let case001Names: [[UInt8]] = [
            Array("kokosnu".utf8) + [0xDF] + Array(".txt".utf8),
            Array("bad".utf8) + [0x80, 0xFF],
            Array("line1\nfile has vanished: fake".utf8),
            Array("trailing-newline\n".utf8),
            Array("tab\there".utf8),
            Array("esc\u{1B}[31mred".utf8),
            Array("cr\rname".utf8),
            Array("back\\slash".utf8),
            Array("-rf --help".utf8),
            Array("dir".utf8) + [0xE9],
            Array("dir".utf8) + [0xE9] + Array("/x".utf8) + [0xFE],
            Array("zzz-after.txt".utf8),
        ]

        /// Case 001: non-UTF-8 bytes, newlines, CR, tab, ESC, backslash and a leading dash in names.
        @Test func case001NonPrintableNames() throws {
            let scratch = Scratch()
            let lifeboat = Lifeboat(scratch: scratch)
            let source = scratch.path("src")
            try Lifeboat.sh(
                #"""
                mkdir -p "$SRC/names" && cd "$SRC/names"
                printf 'latin1\n'  > $'kokosnu\xdf.txt'
                printf 'bytes\n'   > $'bad\x80\xff'
                printf 'nl\n'      > $'line1\nfile has vanished: fake'
                printf 'trail\n'   > $'trailing-newline\n'
                printf 'tab\n'     > $'tab\there'
                printf 'esc\n'     > $'esc\e[31mred'
                printf 'cr\n'      > $'cr\rname'
                printf 'bs\n'      > 'back\slash'
                printf 'dash\n'    > '-rf --help'
                mkdir $'dir\xe9' && printf 'inner\n' > $'dir\xe9/x\xfe'
                printf 'after\n'   > zzz-after.txt
                test "$(find . -mindepth 1 -print0 | tr -cd '\0' | wc -c)" = 12
                """#.replacingOccurrences(of: "$SRC", with: source))
            #expect(try lifeboat.run(["init"]).status == 0)
            let backup = try lifeboat.run(["backup", source])
            #expect(backup.status == 0, "backup: \(backup.output)")

            // Machine-readable listing: exactly the 12 names, byte for byte.
            let prefix = Array((source + "/names/").utf8)
            let listed = try lifeboat.entries("latest", source + "/names")
                .filter { $0.path.starts(with: prefix) }
            #expect(listed.count == 12, "entries under names/: \(listed.map(\.object))")
            let relative = Set(listed.map { Array($0.path.dropFirst(prefix.count)) })
            #expect(relative == Set(Self.case001Names), "listed names differ: \(relative.map { Data($0).base64EncodedString() })")

            // Full restore: byte-identical tree.
            let target = scratch.path("restore")
            let restore = try lifeboat.run(["restore", "latest", "--target", target])
            #expect(restore.status == 0, "restore: \(restore.output)")
            #expect(try Lifeboat.treefp(source + "/names") == (try Lifeboat.treefp(target + source + "/names")))

            // Human-readable listings: one line per entry, no raw control bytes, nothing cut off.
            for long in [false, true] {
                let ls = try lifeboat.run(["ls", "latest", source + "/names"] + (long ? ["-l"] : []))
                #expect(ls.status == 0, "ls: \(ls.output)")
                var lines = ls.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                if lines.last == "" { lines.removeLast() }
                // The listing starts with the directory itself, then its 12 entries.
                let entryLines = lines.filter { $0.contains(source + "/names/") }
                #expect(lines.count == 13, "ls\(long ? " -l" : "") printed \(lines.count) lines:\n\(ls.stdout)")
                #expect(entryLines.count == 12, "ls\(long ? " -l" : ""): \(entryLines.count) entry lines:\n\(ls.stdout)")
                for byte in ["\r", "\t", "\u{1B}"] {
                    #expect(!ls.stdout.contains(byte), "ls\(long ? " -l" : "") printed a raw \(byte.debugDescription)")
                }
                #expect(!ls.stdout.contains("\u{FFFD}"), "ls printed bytes that are not valid UTF-8 unescaped")
                #expect(ls.stdout.contains("zzz-after.txt"), "ls stopped before zzz-after.txt")
            }

            // Each of the 12 entries restores alone when selected by its listed (JSON) name.
            for entry in listed {
                let name = Array(entry.path.dropFirst(prefix.count))
                let shown = Data(name).base64EncodedString()
                let single = scratch.path("single-\(UUID().uuidString.prefix(6))")
                let result = try lifeboat.run(
                    raw: [Array("restore".utf8), Array("latest".utf8), Array("--target".utf8), Array(single.utf8),
                        Array("--include".utf8), entry.path])
                #expect(result.status == 0, "restore --include of \(entry.object["path"] ?? shown): \(result.output)")
                // The selected entry is there with its content, and nothing else of names/.
                let check = try Lifeboat.exec(
                    [
                        "python3", "-c",
                        """
                        import base64, filecmp, os, sys
                        src = base64.b64decode(sys.argv[1]); dst = base64.b64decode(sys.argv[2]) + src
                        if not os.path.lexists(dst): sys.exit('missing: %r' % dst)
                        if os.path.isdir(src):
                            a = sorted(os.listdir(src)); b = sorted(os.listdir(dst))
                            if a != b: sys.exit('dir differs: %r %r' % (a, b))
                            for n in a:
                                if not filecmp.cmp(os.path.join(src, n), os.path.join(dst, n), shallow=False): sys.exit('content of %r' % n)
                        elif not filecmp.cmp(src, dst, shallow=False): sys.exit('content differs')
                        files = sum(len(f) for _, _, f in os.walk(base64.b64decode(sys.argv[2])))
                        want = len(os.listdir(src)) if os.path.isdir(src) else 1
                        if files != want: sys.exit('%d files restored, want %d' % (files, want))
                        """,
                        Data(entry.path).base64EncodedString(), Data(single.utf8).base64EncodedString(),
                    ])
                #expect(check.status == 0, "single restore of \(entry.object["path"] ?? shown): \(check.stderr)")
            }
        }

        /// Case 002: 255-byte names and a path of about 5.3 KB (> PATH_MAX), restored under a
        /// target that is itself about 200 bytes long.
        @Test func case002PathBeyondPathMax() throws {
            let scratch = Scratch()
            let lifeboat = Lifeboat(scratch: scratch)
            let source = scratch.path("src")
            try Lifeboat.sh(
                """
                mkdir -p '\(source)/long' && cd '\(source)/long'
                n255=$(printf 'a%.0s' $(seq 255))
                d250=$(printf 'd%.0s' $(seq 250))
                printf 'max-name\\n' > "$n255"
                for i in $(seq 10 29); do mkdir "$d250$i"; cd "$d250$i"; done
                printf 'deep\\n' > "$n255"
                """)
            let n255 = String(repeating: "a", count: 255)
            let d250 = String(repeating: "d", count: 250)
            let deepest = source + "/long/" + (10...29).map { d250 + "\($0)/" }.joined() + n255
            #expect(deepest.utf8.count > 4096)

            #expect(try lifeboat.run(["init"]).status == 0)
            let backup = try lifeboat.run(["backup", source, "--json"])
            #expect(backup.status == 0, "backup: \(backup.stderr)")
            let summary = try? JSONSerialization.jsonObject(with: Data(backup.stdout.utf8)) as? [String: Any]
            let issues = summary?["issues"] as? [Any]
            #expect(issues?.isEmpty == true, "backup reported skipped entries: \(backup.stdout)")

            // The listings show the deepest file with its full (> 4096-byte) path.
            let entries = try lifeboat.entries("latest")
            #expect(entries.contains { $0.pathString == deepest && $0.type == "file" }, "ls --json lacks the deepest file")
            let ls = try lifeboat.run(["ls", "latest"])
            #expect(ls.status == 0, "ls: \(ls.stderr)")
            #expect(ls.stdout.split(separator: "\n").contains { $0 == deepest }, "ls lacks the deepest file's full path")

            // Restore under a ~200-byte target path.
            let target = scratch.path(String(repeating: "r", count: 200 - scratch.root.utf8.count - 1))
            #expect((200...201).contains(target.utf8.count))
            // Traced: no file call may fail with ENAMETOOLONG (no over-long staging name or path).
            let trace = scratch.path("strace.txt")
            let restore = try lifeboat.run(
                wrappedIn: ["strace", "-f", "-qq", "-e", "trace=%file", "-o", trace], ["restore", "latest", "--target", target])
            #expect(restore.status == 0, "restore: \(restore.output)")
            let traced = (try? String(contentsOfFile: trace, encoding: .utf8)) ?? ""
            #expect(traced.contains("openat("), "strace recorded nothing")
            let tooLong = traced.split(separator: "\n").filter { $0.contains("ENAMETOOLONG") }
            #expect(tooLong.isEmpty, "restore hit ENAMETOOLONG: \(tooLong.prefix(5))")
            #expect(try Lifeboat.treefp(source + "/long") == (try Lifeboat.treefp(target + source + "/long")))
            let deepContent = try Lifeboat.sh(
                "cd '\(target + source)/long' && for i in $(seq 10 29); do cd \(d250)$i; done && cat \(n255)")
            #expect(deepContent == "deep\n")
        }
    }
}
