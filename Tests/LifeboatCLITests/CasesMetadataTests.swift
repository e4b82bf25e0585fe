import Foundation
import Testing

/// Acceptance cases 009, 011, 013 and 014 (shared/cases): capabilities and set-id bits,
/// nanosecond times, directory ACLs, inode flags, through the real binary.
extension Cases {
    @Suite struct Metadata {
        /// Case 009: `security.capability`, setuid/setgid and xattrs in every namespace survive the
        /// owner change, also when restoring over existing files owned by someone else.
        @Test func case009CapabilitiesSetuid() throws {
            let scratch = Scratch()
            let lifeboat = Lifeboat(scratch: scratch)
            let source = scratch.path("src")
            try Lifeboat.sh(
                """
                SRC='\(source)'
                mkdir -p "$SRC/caps"
                cp /bin/true "$SRC/caps/pingish"
                chown 1234:1234 "$SRC/caps/pingish"
                setcap cap_net_raw+ep "$SRC/caps/pingish"
                setfattr -n user.note -v hello "$SRC/caps/pingish"
                cp /bin/true "$SRC/caps/suid"
                chown 1234:2345 "$SRC/caps/suid" && chmod 6755 "$SRC/caps/suid"
                setfattr -n trusted.tag -v secret "$SRC/caps/suid"
                mkdir "$SRC/caps/sgid-dir" && chown 1234:2345 "$SRC/caps/sgid-dir" && chmod 2775 "$SRC/caps/sgid-dir"
                """)
            #expect(try lifeboat.run(["init"]).status == 0)
            let backup = try lifeboat.run(["backup", source + "/caps"])
            #expect(backup.status == 0, "backup: \(backup.output)")

            // Into an empty target, then over existing entries owned by another user.
            let fresh = scratch.path("restore")
            let over = scratch.path("over")
            try Lifeboat.sh(
                """
                D='\(over + source)/caps'
                mkdir -p "$D/sgid-dir"
                printf 'other\\n' > "$D/pingish"; printf 'other\\n' > "$D/suid"
                chown 999:999 "$D/pingish" "$D/suid" "$D/sgid-dir"
                chmod 0600 "$D/pingish" "$D/suid"; chmod 0700 "$D/sgid-dir"
                setfattr -n user.stale -v old "$D/suid"
                """)
            for target in [fresh, over] {
                let label = target == fresh ? "empty target" : "over existing files"
                let restore = try lifeboat.run(["restore", "latest", "--target", target])
                #expect(restore.status == 0, "restore (\(label)): \(restore.output)")
                let restored = target + source + "/caps"
                let getcap = try Lifeboat.exec(["getcap", restored + "/pingish"])
                #expect(getcap.stdout.contains("cap_net_raw=ep"), "getcap (\(label)): \(getcap.output)")
                let capability = { (dir: String) in
                    try Lifeboat.exec(["getfattr", "--absolute-names", "-n", "security.capability", "-e", "hex", dir + "/pingish"])
                        .stdout.split(separator: "\n").filter { $0.hasPrefix("security.capability=") }
                }
                #expect(try capability(restored) == (try capability(source + "/caps")), "security.capability bytes (\(label))")
                for (name, want) in [("suid", "6755 1234:2345\n"), ("sgid-dir", "2775 1234:2345\n"), ("pingish", "755 1234:1234\n")] {
                    let got = try Lifeboat.sh("stat -c '%a %u:%g' '\(restored)/\(name)'")
                    #expect(got == want, "\(name) (\(label)): \(got)")
                }
                for name in ["pingish", "suid", "sgid-dir"] {
                    let dump = { (dir: String) in try Lifeboat.sh("cd '\(dir)' && getfattr -h -d -m - -e hex \(name)") }
                    #expect(try dump(restored) == (try dump(source + "/caps")), "xattrs of \(name) (\(label))")
                }
                #expect(try Lifeboat.treefp(source + "/caps") == (try Lifeboat.treefp(restored)), "treefp (\(label))")
            }
        }

        /// Case 011: mtimes keep all nine fractional digits on files, a directory and a symlink.
        @Test func case011NanosecondMtime() throws {
            let scratch = Scratch()
            let lifeboat = Lifeboat(scratch: scratch)
            let source = scratch.path("src")
            try Lifeboat.sh(
                """
                SRC='\(source)'
                mkdir -p "$SRC/ns/d"
                for i in 1 2 3; do printf '%s\\n' "$i" > "$SRC/ns/f$i"; done
                touch -m -d '2018-07-11 22:49:28.728542758 UTC' "$SRC/ns/f1"
                touch -m -d '2018-07-11 22:49:28.000000001 UTC' "$SRC/ns/f2"
                touch -m -d '2018-07-11 22:49:28.999999999 UTC' "$SRC/ns/f3"
                touch -a -d '2019-01-01 00:00:00.123456789 UTC' "$SRC/ns/f1"
                ln -s f1 "$SRC/ns/l" && touch -h -d '2016-06-06 06:06:06.666666666 UTC' "$SRC/ns/l"
                touch -d '2017-05-05 05:05:05.555555555 UTC' "$SRC/ns/d"
                """)
            let names = ["f1", "f2", "f3", "d", "l"]
            let mtimes = { (dir: String) in try names.map { try Lifeboat.sh("TZ=UTC stat -c %y '\(dir)/\($0)'") } }
            let sourceMtimes = try mtimes(source + "/ns")
            #expect(sourceMtimes[0] == "2018-07-11 22:49:28.728542758 +0000\n")
            let sourceAtime = try Lifeboat.sh("TZ=UTC stat -c %x '\(source)/ns/f1'")

            #expect(try lifeboat.run(["init"]).status == 0)
            let backup = try lifeboat.run(["backup", source + "/ns"])
            #expect(backup.status == 0, "backup: \(backup.output)")
            let target = scratch.path("restore")
            let restore = try lifeboat.run(["restore", "latest", "--target", target])
            #expect(restore.status == 0, "restore: \(restore.output)")
            let restored = target + source + "/ns"
            let restoredMtimes = try mtimes(restored)
            for (index, name) in names.enumerated() {
                #expect(restoredMtimes[index] == sourceMtimes[index], "mtime of \(name)")
            }
            // atime: only if the product restores it (then exactly).
            let restoredAtime = try Lifeboat.sh("TZ=UTC stat -c %x '\(restored)/f1'")
            if restoredAtime.hasPrefix("2019-01-01") { #expect(restoredAtime == sourceAtime, "atime of f1") }
            #expect(try Lifeboat.treefp(source + "/ns") == (try Lifeboat.treefp(restored)))
            // What `rsync -a --itemize-changes` compares (rsync is not installed here): type,
            // size, mtime to the nanosecond, mode, owner, link target, for every entry.
            let itemize = { (dir: String) in
                try Lifeboat.sh("cd '\(dir)' && find . -printf '%y %s %T@ %m %U:%G %l %p\\n' | sort")
            }
            #expect(try itemize(restored) == (try itemize(source + "/ns")), "rsync-style comparison differs")

            // Restore in place over the source, then back up again: nothing changed.
            let inPlace = try lifeboat.run(["restore", "latest", "--target", "/", "--include", source + "/ns"])
            #expect(inPlace.status == 0, "restore in place: \(inPlace.output)")
            #expect(try mtimes(source + "/ns") == sourceMtimes)
            let again = try #require(try lifeboat.json(["backup", source + "/ns"]) as? [String: Any])
            #expect(again["files_changed"] as? Int == 0, "second backup: \(again)")
            #expect(again["files_new"] as? Int == 0, "second backup: \(again)")
        }

        /// Case 013: access and default ACLs on directories, and a mask narrower than a named entry.
        @Test func case013AclsOnDirectories() throws {
            let scratch = Scratch()
            let lifeboat = Lifeboat(scratch: scratch)
            let source = scratch.path("src")
            try Lifeboat.sh(
                """
                SRC='\(source)'
                mkdir -p "$SRC/acl/shared/sub"
                printf 'x\\n' > "$SRC/acl/shared/file"
                setfacl -m u:4242:rwx,g:4343:r-x "$SRC/acl/shared"
                setfacl -d -m u:4242:rwx,g:4343:r-x,o::- "$SRC/acl/shared"
                setfacl -d -m u:4242:r-x "$SRC/acl/shared/sub"
                setfacl -m u:4242:rw-,m::r-- "$SRC/acl/shared/file"
                """)
            #expect(try lifeboat.run(["init"]).status == 0)
            let backup = try lifeboat.run(["backup", source + "/acl"])
            #expect(backup.status == 0, "backup: \(backup.output)")
            let target = scratch.path("restore")
            let restore = try lifeboat.run(["restore", "latest", "--target", target])
            #expect(restore.status == 0, "restore: \(restore.output)")

            let acls = { (dir: String) in try Lifeboat.sh("cd '\(dir)' && getfacl -pnR acl") }
            let want = try acls(source)
            let got = try acls(target + source)
            #expect(got == want, "getfacl -pnR differs:\n--- source\n\(want)\n--- restored\n\(got)")
            let file = try Lifeboat.sh("cd '\(target + source)' && getfacl -pn acl/shared/file")
            #expect(file.contains("user:4242:rw-") && file.contains("mask::r--"), "shared/file ACL: \(file)")
            #expect(try Lifeboat.treefp(source + "/acl") == (try Lifeboat.treefp(target + source + "/acl")))

            // Inheritance: a new file gets the same ACL in both trees.
            let newFile = { (dir: String) in
                try Lifeboat.sh("touch '\(dir)/acl/shared/new' && cd '\(dir)/acl/shared' && getfacl -pn new")
            }
            #expect(try newFile(target + source) == (try newFile(source)), "inherited ACL of a new file differs")
        }

        /// Case 014: immutable and append-only flags come back, applied after everything else.
        @Test func case014ImmutableAppendOnly() throws {
            let scratch = Scratch()
            let lifeboat = Lifeboat(scratch: scratch)
            let source = scratch.path("src")
            try Lifeboat.sh(
                """
                SRC='\(source)'
                mkdir -p "$SRC/flags"
                printf 'locked\\n' > "$SRC/flags/immutable"
                setfattr -n user.k -v v "$SRC/flags/immutable"
                chmod 0444 "$SRC/flags/immutable"
                touch -d '2005-05-05 05:05:05 UTC' "$SRC/flags/immutable"
                chattr +i "$SRC/flags/immutable"
                printf 'log line\\n' > "$SRC/flags/append-only" && chattr +a "$SRC/flags/append-only"
                mkdir "$SRC/flags/imm-dir" && printf 'in\\n' > "$SRC/flags/imm-dir/inside"
                touch -d '2006-06-06 UTC' "$SRC/flags/imm-dir" && chattr +i "$SRC/flags/imm-dir"
                """)
            #expect(try lifeboat.run(["init"]).status == 0)
            let backup = try lifeboat.run(["backup", source + "/flags"])
            #expect(backup.status == 0, "backup: \(backup.output)")

            let target = scratch.path("restore")
            let restore = try lifeboat.run(["restore", "latest", "--target", target])
            #expect(restore.status == 0, "restore: \(restore.output)")
            let restored = target + source + "/flags"
            try Self.checkFlags(restored, source: source + "/flags")

            // Second restore over the restored tree, after tampering with it: success must mean the
            // snapshot content is back (and the flags set again); otherwise a non-zero exit naming them.
            try Lifeboat.sh(
                """
                R='\(restored)'
                chattr -i "$R/immutable" "$R/imm-dir"
                chmod u+w "$R/immutable"; printf 'tampered\\n' > "$R/immutable"; chmod 0444 "$R/immutable"
                touch -d '2005-05-05 05:05:05 UTC' "$R/immutable"
                printf 'appended\\n' >> "$R/append-only"
                chattr +i "$R/immutable" "$R/imm-dir"
                """)
            let again = try lifeboat.run(["restore", "latest", "--target", target])
            if again.status == 0 {
                try Self.checkFlags(restored, source: source + "/flags")
                #expect(FileManager.default.contents(atPath: restored + "/append-only") == Data("log line\n".utf8),
                    "second restore reported success but left the appended line in append-only")
            } else {
                #expect(again.output.contains(source + "/flags/immutable") && again.output.contains(source + "/flags/append-only"),
                    "second restore failed without naming the locked paths: \(again.output)")
            }

            // Without CAP_LINUX_IMMUTABLE: completes, with one warning per flag that could not be set.
            let capless = scratch.path("capless")
            let noCap = try lifeboat.run(
                wrappedIn: ["setpriv", "--inh-caps=-linux_immutable", "--bounding-set=-linux_immutable"],
                ["restore", "latest", "--target", capless, "--json"])
            #expect(noCap.status == 0, "restore without CAP_LINUX_IMMUTABLE: \(noCap.output)")
            let summary = try? JSONSerialization.jsonObject(with: Data(noCap.stdout.utf8)) as? [String: Any]
            let issues = (summary?["issues"] as? [[String: Any]]) ?? []
            // Named by the entry's snapshot path or its restored path.
            let flagged = ["immutable", "append-only", "imm-dir"].map { source + "/flags/" + $0 }
            #expect(issues.count == 3, "want one warning per flag, got: \(issues)")
            let named = Set(issues.compactMap { $0["path"] as? String }.map { $0.hasPrefix(capless) ? String($0.dropFirst(capless.count)) : $0 })
            #expect(named == Set(flagged), "warnings name: \(issues)")
            #expect(issues.allSatisfy { $0["warning"] as? Bool == true }, "flag failures should be warnings: \(issues)")
            #expect(FileManager.default.contents(atPath: capless + source + "/flags/immutable") == Data("locked\n".utf8))
            #expect(FileManager.default.fileExists(atPath: capless + source + "/flags/imm-dir/inside"))
        }

        static func checkFlags(_ restored: String, source: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let flags = { (path: String) -> String in
                String(try Lifeboat.sh("lsattr -d '\(path)'").split(separator: " ").first ?? "")
            }
            #expect(try flags(restored + "/immutable").contains("i"), "immutable lacks i", sourceLocation: sourceLocation)
            #expect(try flags(restored + "/imm-dir").contains("i"), "imm-dir lacks i", sourceLocation: sourceLocation)
            #expect(try flags(restored + "/append-only").contains("a"), "append-only lacks a", sourceLocation: sourceLocation)
            let inside = try flags(restored + "/imm-dir/inside")
            #expect(!inside.contains("i") && !inside.contains("a"), "inside has flags \(inside)", sourceLocation: sourceLocation)
            #expect(FileManager.default.contents(atPath: restored + "/immutable") == Data("locked\n".utf8),
                "content of immutable", sourceLocation: sourceLocation)
            #expect(try Lifeboat.sh("stat -c %a '\(restored)/immutable'") == "444\n", sourceLocation: sourceLocation)
            #expect(try Lifeboat.sh("TZ=UTC stat -c %y '\(restored)/immutable'").hasPrefix("2005-05-05 05:05:05"),
                sourceLocation: sourceLocation)
            #expect(try Lifeboat.sh("TZ=UTC stat -c %y '\(restored)/imm-dir'").hasPrefix("2006-06-06 00:00:00"),
                sourceLocation: sourceLocation)
            #expect(try Lifeboat.exec(["getfattr", "--only-values", "-n", "user.k", restored + "/immutable"]).stdout == "v",
                "user.k on immutable", sourceLocation: sourceLocation)
            #expect(FileManager.default.fileExists(atPath: restored + "/imm-dir/inside"), sourceLocation: sourceLocation)
            #expect(try Lifeboat.treefp(source) == (try Lifeboat.treefp(restored)), "treefp", sourceLocation: sourceLocation)
        }
    }
}
