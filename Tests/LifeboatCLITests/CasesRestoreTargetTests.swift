import Foundation
import Testing

/// Acceptance cases 027 and 029 (shared/cases): what restore does to its target.
extension Cases {
    @Suite struct RestoreTarget {
        /// Case 027: a restore into a target that already holds symlinks (to a file and to a
        /// directory outside it) never writes through them.
        @Test func case027RestoreThroughPlantedSymlink() throws {
            let scratch = Scratch()
            let lifeboat = Lifeboat(scratch: scratch)
            let source = scratch.path("src")
            try Lifeboat.sh(
                """
                SRC='\(source)'
                mkdir -p "$SRC/trav/sub"
                printf 'snapshot data\\n' > "$SRC/trav/x"
                printf 'nested\\n' > "$SRC/trav/sub/y"
                """)
            #expect(try lifeboat.run(["init"]).status == 0)
            let backup = try lifeboat.run(["backup", source + "/trav"])
            #expect(backup.status == 0, "backup: \(backup.output)")

            // The traps: the restored paths are DST + the source's absolute path.
            let target = scratch.path("restore-elsewhere")
            let outside = scratch.path("outside")
            let trav = target + source + "/trav"
            try Lifeboat.sh(
                """
                mkdir -p '\(trav)' '\(outside)/victim-dir'
                printf 'precious\\n' > '\(outside)/victim'; touch -d '2000-01-01 UTC' '\(outside)/victim'
                printf 'precious\\n' > '\(outside)/victim-dir/y'
                ln -s '\(outside)/victim'     '\(trav)/x'
                ln -s '\(outside)/victim-dir' '\(trav)/sub'
                touch -d '2001-01-01 UTC' '\(outside)/victim-dir/y' '\(outside)/victim-dir' '\(outside)'
                touch '\(scratch.path("marker"))'
                """)
            let restore = try lifeboat.run(["restore", "latest", "--target", target])

            #expect(FileManager.default.contents(atPath: outside + "/victim") == Data("precious\n".utf8), "victim overwritten")
            #expect(try Lifeboat.sh("TZ=UTC stat -c %y '\(outside)/victim'").hasPrefix("2000-01-01 00:00:00"), "victim's mtime changed")
            #expect(FileManager.default.contents(atPath: outside + "/victim-dir/y") == Data("precious\n".utf8), "victim-dir/y overwritten")
            let written = try Lifeboat.sh("find '\(outside)' -newer '\(scratch.path("marker"))'")
            #expect(written.isEmpty, "restore wrote outside the target: \(written)")
            let entries = try Lifeboat.sh("find '\(outside)' -mindepth 1 | sort")
            #expect(entries == "\(outside)/victim\n\(outside)/victim-dir\n\(outside)/victim-dir/y\n", "new entries outside the target: \(entries)")

            if restore.status == 0 {
                #expect(try Lifeboat.sh("stat -c %F '\(trav)/x'") == "regular file\n", "x is still not a regular file")
                #expect(FileManager.default.contents(atPath: trav + "/x") == Data("snapshot data\n".utf8))
                #expect(try Lifeboat.sh("stat -c %F '\(trav)/sub'") == "directory\n", "sub is still not a real directory")
                #expect(FileManager.default.contents(atPath: trav + "/sub/y") == Data("nested\n".utf8))
            } else {
                // Named by snapshot path or restored path (the former is a suffix of the latter).
                #expect(restore.output.contains(source + "/trav/x") && restore.output.contains(source + "/trav/sub"),
                    "restore refused without naming both planted paths: \(restore.output)")
            }
        }

        /// Case 029: the target file system fills up during restore: one clear error, no partial
        /// file under its final name, and the rerun after growing the file system succeeds.
        @Test func case029DiskFullRestore() throws {
            let scratch = Scratch()
            let lifeboat = Lifeboat(scratch: scratch)
            let source = scratch.path("src")
            let fill = source + "/fill"
            try Lifeboat.sh(
                "mkdir -p '\(fill)' && for i in $(seq 1 20); do head -c 16M /dev/urandom > '\(fill)/f'$i; done")
            #expect(try lifeboat.run(["init"]).status == 0)
            let backup = try lifeboat.run(["backup", fill])
            #expect(backup.status == 0, "backup: \(backup.output)")

            // A 128 MiB ext4 on a loop device, under the scratch dir; always unmounted and detached.
            let image = scratch.path("small.img")
            let mount = scratch.path("mnt-small")
            try Lifeboat.sh("truncate -s 128M '\(image)' && mkfs.ext4 -q -F '\(image)' && mkdir -p '\(mount)'")
            var loop = try Lifeboat.sh("losetup -f --show '\(image)'").trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(loop.hasPrefix("/dev/loop"))
            defer {
                _ = try? Lifeboat.exec(["/bin/sh", "-c", "umount '\(mount)' 2>/dev/null; losetup -d '\(loop)' 2>/dev/null"])
            }
            try Lifeboat.sh("mount '\(loop)' '\(mount)'")
            let target = mount + "/r"

            let started = Date()
            let full = try lifeboat.run(wrappedIn: ["timeout", "-k", "10", "120"], ["restore", "latest", "--target", target])
            let elapsed = Date().timeIntervalSince(started)
            #expect(full.status != 124, "restore into a full file system hung")
            #expect(full.status != 0, "restore into a full file system exited 0: \(full.output)")
            #expect(full.status < 128, "restore died of a signal (status \(full.status)): \(full.output)")
            #expect(elapsed < 60, "restore took \(elapsed) s")
            let lower = full.output.lowercased()
            #expect(lower.contains("no space") || lower.contains("out of space") || lower.contains("enospc") || lower.contains("full"),
                "the error does not say the target is out of space: \(full.output)")
            #expect(full.output.contains(target), "the error does not name the target: \(full.output)")
            let errorLines = full.stderr.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            #expect(errorLines.count <= 5, "\(errorLines.count) error lines:\n\(full.stderr)")
            for word in ["Fatal error", "panic", "Crash", "Stack dump", "backtrace"] {
                #expect(!full.output.contains(word), "crash trace in output: \(full.output)")
            }
            // Whatever is under a final name is complete.
            for i in 1...20 {
                let restored = target + fill + "/f\(i)"
                if FileManager.default.fileExists(atPath: restored) {
                    #expect(FileManager.default.contentsEqual(atPath: restored, andPath: fill + "/f\(i)"),
                        "f\(i) is under its final name with partial content")
                }
            }

            // Grow the file system to 512 MiB and run the same restore again.
            try Lifeboat.sh(
                """
                umount '\(mount)' && losetup -d '\(loop)'
                truncate -s 512M '\(image)'
                e2fsck -fy '\(image)' >/dev/null 2>&1 || [ $? -le 1 ]
                resize2fs '\(image)' >/dev/null 2>&1
                """)
            loop = try Lifeboat.sh("losetup -f --show '\(image)'").trimmingCharacters(in: .whitespacesAndNewlines)
            try Lifeboat.sh("mount '\(loop)' '\(mount)'")
            let rerun = try lifeboat.run(wrappedIn: ["timeout", "-k", "10", "120"], ["restore", "latest", "--target", target])
            #expect(rerun.status == 0, "restore after growing the file system: \(rerun.output)")
            for i in 1...20 {
                #expect(FileManager.default.contentsEqual(atPath: target + fill + "/f\(i)", andPath: fill + "/f\(i)"),
                    "f\(i) differs after the second restore")
            }
        }
    }
}
