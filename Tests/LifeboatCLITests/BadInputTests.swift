import Foundation
import Testing

/// Bad input gets one clear line and the documented exit code.
@Suite struct BadInputTests {
    @Test func exitCodesAndMessages() throws {
        let scratch = Scratch()
        let lifeboat = Lifeboat(scratch: scratch)
        let missing = try lifeboat.run(["snapshots"])
        #expect(missing.status == 10)
        #expect(missing.stderr.contains("no repository at"))

        #expect(try lifeboat.run(["init"]).status == 0)
        let again = try lifeboat.run(["init"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists"))

        let wrong = try lifeboat.run(["snapshots"], password: "not it")
        #expect(wrong.status == 12)
        #expect(wrong.stderr.contains("wrong passphrase"))

        let nothing = try lifeboat.run(["backup", scratch.path("does-not-exist")])
        #expect(nothing.status == 1)
        #expect(nothing.stderr.contains("does-not-exist"))

        let unknown = try lifeboat.run(["restore", "abcdef12", "--target", scratch.path("t")])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no snapshot abcdef12"))

        let typo = try lifeboat.run(["backup", "--frobnicate", "/tmp"])
        #expect(typo.status == 1)
        #expect(typo.stderr.contains("--frobnicate"))

        for result in [missing, again, wrong, nothing, unknown, typo] {
            #expect(result.stderr.split(separator: "\n").count == 1, "not one line: \(result.stderr)")
        }
    }

    /// A repository whose file system fills up: the backup fails with one clear error, the
    /// unfinished packs' spool files are gone (the disk is not left full), and check passes.
    @Test func fullRepositoryDiskFailsCleanly() throws {
        let scratch = Scratch()
        let lifeboat = Lifeboat(scratch: scratch)
        let source = scratch.path("src")
        try Lifeboat.sh(
            "mkdir -p '\(source)' '\(lifeboat.repository)' && head -c 48M /dev/urandom > '\(source)/big' "
                + "&& mount -t tmpfs -o size=24m lifeboat-test '\(lifeboat.repository)'")
        defer { _ = try? Lifeboat.exec(["/bin/sh", "-c", "umount '\(lifeboat.repository)'"]) }
        try lifeboat.initialize()
        let backup = try lifeboat.run(["backup", source])
        #expect(backup.status == 1, "\(backup.output)")
        #expect(backup.stderr.contains("ENOSPC") || backup.stderr.contains("No space left"), "\(backup.stderr)")
        // The message says where space is missing.
        #expect(backup.stderr.contains(lifeboat.repository), "\(backup.stderr)")
        let spool = try Lifeboat.sh("find '\(lifeboat.repository)' -name '.spool-*' | wc -l")
        #expect(spool.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "spool files left behind")
        let check = try lifeboat.run(["check"])
        #expect(check.status == 0, "\(check.output)")
    }

    @Test func unknownFormatVersionAndTruncatedKey() throws {
        let scratch = Scratch()
        let lifeboat = Lifeboat(scratch: scratch)
        try lifeboat.initialize()
        let keys = try FileManager.default.contentsOfDirectory(atPath: lifeboat.repository + "/keys")
        let key = lifeboat.repository + "/keys/" + keys[0]
        try Lifeboat.sh("chmod u+w '\(key)'; truncate -s 40 '\(key)'")
        let truncated = try lifeboat.run(["snapshots"])
        #expect(truncated.status == 1)
        #expect(truncated.stderr.contains("truncated or damaged"))

        let config = lifeboat.repository + "/config"
        try Lifeboat.sh("chmod u+w '\(config)'; sed -i 's/\"version\":[0-9]*/\"version\":9/' '\(config)'")
        let future = try lifeboat.run(["snapshots"])
        #expect(future.status == 1)
        #expect(future.stderr.contains("format version 9"))
    }
}

/// `key add` gives a second passphrase to the same data; `key list` shows both.
@Suite struct KeyCommandTests {
    @Test func addedPassphraseOpensTheRepository() throws {
        let scratch = Scratch()
        let lifeboat = Lifeboat(scratch: scratch)
        try lifeboat.initialize()
        try Lifeboat.sh("printf 'second secret\\n' > '\(scratch.path("new-pass"))'")
        let added = try lifeboat.run(["key", "add", "--new-password-file", scratch.path("new-pass")])
        #expect(added.status == 0, "\(added.output)")
        let keys = try #require(try lifeboat.json(["key", "list"]) as? [[String: Any]])
        #expect(keys.count == 2)
        #expect(keys.filter { $0["current"] as? Bool == true }.count == 1)
        let other = try lifeboat.run(["snapshots", "--json"], password: "second secret")
        #expect(other.status == 0, "\(other.output)")
        #expect(try lifeboat.run(["snapshots"], password: "neither").status == 12)
    }
}

@Suite struct PathHandlingTests {
    /// A backup path under a symlinked directory is recorded as the path its tree holds, so
    /// `ls` and `--include` with what `snapshots` shows work.
    @Test func symlinkedParentIsRecordedResolved() throws {
        let scratch = Scratch()
        let lifeboat = Lifeboat(scratch: scratch)
        try Lifeboat.sh("mkdir -p '\(scratch.path("real/sub"))'; echo hi > '\(scratch.path("real/sub/f"))'; ln -s real '\(scratch.path("link"))'")
        try lifeboat.initialize()
        #expect(try lifeboat.run(["backup", scratch.path("link/sub")]).status == 0)
        let snapshots = try #require(try lifeboat.json(["snapshots"]) as? [[String: Any]])
        let recorded = try #require((snapshots.first?["paths"] as? [String])?.first)
        #expect(recorded == scratch.path("real/sub"))
        #expect(try lifeboat.run(["ls", "latest", recorded]).stdout.contains(recorded + "/f"))
        let target = scratch.path("t")
        #expect(try lifeboat.run(["restore", "latest", "--target", target, "--include", recorded]).status == 0)
        #expect(FileManager.default.fileExists(atPath: target + recorded + "/f"))
    }

    @Test func repositoryPathThatIsAFileIsNoRepository() throws {
        let scratch = Scratch()
        try Lifeboat.sh("echo x > '\(scratch.path("file"))'")
        let result = try Lifeboat.exec(
            [Lifeboat.binary, "--repo", scratch.path("file"), "snapshots"], environment: ["LIFEBOAT_PASSWORD": "x"])
        #expect(result.status == 10, "\(result.output)")
        #expect(result.stderr.contains("no repository at"))
    }
}
