import Foundation
import Testing

/// Acceptance cases 015 and 017 (shared/cases): files changing while read, unreadable entries.
extension Cases {
    @Suite struct LiveTree {
        /// Case 015: growing, shrinking and rename-replaced files give one consistent stored
        /// version each, plus a "changed during backup" warning.
        @Test func case015FileChangesDuringRead() throws {
            let scratch = Scratch()
            let lifeboat = Lifeboat(scratch: scratch)
            let source = scratch.path("src")
            let live = source + "/live"
            try Lifeboat.sh(
                """
                SRC='\(source)'
                mkdir -p "$SRC/live"
                head -c 64M /dev/urandom > "$SRC/live/growing.log"
                head -c 64M /dev/urandom > "$SRC/live/shrinking.db"
                mkver() { head -c 8M /dev/urandom > "$1.tmp"; sha256sum < "$1.tmp" | head -c 64 >> "$1.tmp"; mv "$1.tmp" "$1"; }
                mkver "$SRC/live/replaced"
                """)
            #expect(try lifeboat.run(["init"]).status == 0)
            // The writers run in their own session, detached from the test's pipes.
            let writers = try Lifeboat.startDetached(
                """
                SRC='\(source)'
                mkver() { head -c 8M /dev/urandom > "$1.tmp"; sha256sum < "$1.tmp" | head -c 64 >> "$1.tmp"; mv "$1.tmp" "$1"; }
                ( while :; do head -c 65536 /dev/urandom >> "$SRC/live/growing.log"; sleep 0.01; done ) &
                ( while :; do mkver "$SRC/live/replaced"; done ) &
                ( while :; do truncate -s "<$((RANDOM * 1024))" "$SRC/live/shrinking.db"; head -c 1M /dev/urandom >> "$SRC/live/shrinking.db"; done ) &
                wait
                """)
            var stopped = false
            let stopWriters = {
                guard !stopped else { return }
                stopped = true
                Lifeboat.stopDetached(writers)
                _ = try? Lifeboat.exec(["/bin/sh", "-c", "rm -f '\(live)'/*.tmp"])
            }
            defer { stopWriters() }
            // Start the backup only once every writer is demonstrably running: on a fast machine
            // a fixed delay let the backup read shrinking.db before its writer had started.
            try Lifeboat.sh(
                """
                for _ in $(seq 1 200); do
                  [ "$(stat -c %s '\(live)/shrinking.db')" != 67108864 ] && [ "$(stat -c %s '\(live)/growing.log')" != 67108864 ] && exit 0
                  sleep 0.05
                done
                echo "writers did not start" >&2; exit 1
                """)
            usleep(100_000)
            let backup = try lifeboat.run(wrappedIn: ["timeout", "-k", "10", "300"], ["backup", live, "--json"])
            stopWriters()

            #expect(backup.status != 1, "backup failed: \(backup.stderr)")
            let summary = try? JSONSerialization.jsonObject(with: Data(backup.stdout.utf8)) as? [String: Any]
            #expect(summary?["snapshot"] is String, "no snapshot: \(backup.output)")
            let issues = (summary?["issues"] as? [[String: Any]]) ?? []
            for name in ["growing.log", "shrinking.db"] {
                let named = issues.filter { $0["path"] as? String == live + "/" + name }
                #expect(
                    named.contains { ($0["message"] as? String ?? "").contains("changed during backup") && $0["warning"] as? Bool == true },
                    "\(name) not reported as changed during backup: \(issues)")
            }
            // "Completed with warnings" must be distinguishable from a clean run and from a fatal one.
            #expect(backup.status != 0 && backup.status != 1,
                "backup with files changed during read exited \(backup.status) (want a documented 'completed with warnings' status); issues: \(issues)")

            let target = scratch.path("restore")
            let restore = try lifeboat.run(["restore", "latest", "--target", target])
            #expect(restore.status == 0, "restore: \(restore.output)")
            let restored = target + live

            // growing.log: at least the original 64 MiB, and a prefix of the final file.
            let grown = try Lifeboat.sh(
                """
                F='\(restored)/growing.log'; n=$(stat -c %s "$F")
                if [ "$n" -lt 67108864 ]; then echo "short $n"; exit 0; fi
                cmp -n "$n" "$F" '\(live)/growing.log' && echo prefix || echo "not a prefix"
                """)
            #expect(grown == "prefix\n", "growing.log: \(grown)")

            // replaced: one complete self-checking version.
            let replaced = try Lifeboat.sh(
                """
                F='\(restored)/replaced'
                [ "$(head -c 8388608 "$F" | sha256sum | head -c 64)" = "$(tail -c 64 "$F")" ] && echo whole || echo torn
                stat -c %s "$F"
                """)
            #expect(replaced == "whole\n8388672\n", "replaced: \(replaced)")

            // shrinking.db: the recorded size, and no 4 KiB-aligned block of zeros.
            let recorded = try lifeboat.entries("latest", live).first { $0.pathString == live + "/shrinking.db" }?.size
            let size = try Lifeboat.sh("stat -c %s '\(restored)/shrinking.db'").trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(recorded != nil && Int(size) == recorded, "shrinking.db: restored \(size) bytes, snapshot records \(String(describing: recorded))")
            let zeros = try Lifeboat.sh(
                """
                python3 - '\(restored)/shrinking.db' <<'PY'
                import sys
                z = bytes(4096); n = 0
                with open(sys.argv[1], 'rb') as f:
                    while True:
                        b = f.read(4096)
                        if not b: break
                        if len(b) == 4096 and b == z: n += 1
                print(n)
                PY
                """)
            #expect(zeros == "0\n", "shrinking.db has \(zeros.dropLast()) all-zero 4 KiB blocks")

            let check = try lifeboat.run(["check", "--read-data"])
            #expect(check.status == 0, "check --read-data: \(check.output)")
        }

        /// Case 017: unreadable entries are listed as errors and the rest is backed up; an
        /// unreadable backup root fails the run without a snapshot.
        @Test func case017PermissionDenied() throws {
            let scratch = Scratch()
            let lifeboat = Lifeboat(scratch: scratch)
            let source = scratch.path("src")
            let perm = source + "/perm"
            try Lifeboat.sh(
                """
                SRC='\(source)'
                mkdir -p "$SRC/perm/ok" "$SRC/perm/locked-dir" "$SRC/perm/after" "$SRC/perm/xonly"
                printf 'ok\\n' > "$SRC/perm/ok/a"; printf 'secret\\n' > "$SRC/perm/locked-dir/s"
                printf 'nope\\n' > "$SRC/perm/locked-file"; printf 'z\\n' > "$SRC/perm/after/z"
                printf 'known\\n' > "$SRC/perm/xonly/known"
                chown -R 65534:65534 "$SRC/perm"
                chown 0:0 "$SRC/perm/locked-dir" "$SRC/perm/locked-file" "$SRC/perm/xonly"
                chmod 0700 "$SRC/perm/locked-dir"; chmod 0600 "$SRC/perm/locked-file"
                chmod 0711 "$SRC/perm/xonly"
                """)
            #expect(try lifeboat.run(["init"]).status == 0)
            try Lifeboat.sh(
                "mkdir -p '\(lifeboat.cache)' && chown -R 65534:65534 '\(lifeboat.repository)' '\(lifeboat.cache)' && chmod 0755 '\(scratch.root)' '\(source)'")
            let nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            let home = ["HOME": scratch.root, "USER": "nobody"]

            // First run, machine-readable.
            let first = try lifeboat.run(wrappedIn: nobody, ["backup", perm, "--json"], environment: home)
            #expect(first.status == 3, "backup with unreadable entries exited \(first.status): \(first.output)")
            let summary = try? JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any]
            #expect(summary?["snapshot"] is String, "no snapshot: \(first.output)")
            let issues = (summary?["issues"] as? [[String: Any]]) ?? []
            let unreadable = Set(["locked-dir", "locked-file", "xonly"].map { perm + "/" + $0 })
            let errorPaths = issues.filter { $0["warning"] as? Bool == false }.compactMap { $0["path"] as? String }
            #expect(errorPaths.sorted() == unreadable.sorted(), "errors listed: \(issues)")
            let errorMessages = issues.filter { $0["warning"] as? Bool == false }.compactMap { $0["message"] as? String }
            #expect(errorMessages.allSatisfy { $0.contains("EACCES") || $0.lowercased().contains("permission") },
                "not reported as permission errors: \(issues)")

            // The same list in the human output.
            let human = try lifeboat.run(wrappedIn: nobody, ["backup", perm], environment: home)
            #expect(human.status == 3, "human backup exited \(human.status): \(human.output)")
            let errorLines = human.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
            let humanPaths = Set(errorLines.compactMap { line in unreadable.first { line.hasPrefix("error: " + $0 + ":") } })
            #expect(errorLines.count == 3 && humanPaths == unreadable, "human output errors: \(human.stderr)")

            // The snapshot: contents of the readable files, names/modes/owners of the rest.
            let snapshotID = summary?["snapshot"] as? String ?? "latest"
            let entries = Dictionary(
                try lifeboat.entries(snapshotID, perm).map { ($0.pathString, $0) }, uniquingKeysWith: { a, _ in a })
            for (name, type, mode) in [("locked-dir", "dir", 0o700), ("locked-file", "file", 0o600), ("xonly", "dir", 0o711)] {
                let entry = entries[perm + "/" + name]
                #expect(entry?.type == type, "\(name): \(String(describing: entry?.object))")
                #expect(entry.map { $0.mode & 0o7777 } == mode, "mode of \(name): \(String(describing: entry?.object))")
                #expect(entry?.uid == 0 && entry?.gid == 0, "owner of \(name): \(String(describing: entry?.object))")
            }
            #expect(entries[perm + "/ok/a"]?.size == 3 && entries[perm + "/after/z"]?.size == 2)
            let target = scratch.path("restore")
            let restore = try lifeboat.run(["restore", snapshotID, "--target", target])
            #expect(restore.status == 0, "restore: \(restore.output)")
            for name in ["ok/a", "after/z"] {
                #expect(FileManager.default.contentsEqual(atPath: target + perm + "/" + name, andPath: perm + "/" + name),
                    "\(name) not restored identical")
            }

            // Second run: the backup root itself is unreadable.
            let before = try #require(try lifeboat.json(["snapshots"]) as? [[String: Any]]).count
            let root = try lifeboat.run(wrappedIn: nobody, ["backup", perm + "/locked-dir"], environment: home)
            #expect(root.status != 0, "backup of an unreadable root exited 0: \(root.output)")
            #expect(root.output.contains(perm + "/locked-dir"), "the failure does not name the root: \(root.output)")
            let after = try #require(try lifeboat.json(["snapshots"]) as? [[String: Any]])
            #expect(after.count == before, "a snapshot was recorded for the unreadable root: \(root.output)")
        }
    }
}
