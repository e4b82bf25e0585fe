import Foundation
import Testing

/// Damage, kills and concurrency: after each, nothing lost, `check` clean, the next run resumes.
@Suite struct RobustnessTests {
    static func packs(_ repository: String) throws -> [String] {
        try Lifeboat.sh("find '\(repository)/data' -type f ! -name '.*' | sort").split(separator: "\n").map(String.init)
    }

    /// Case 030: bit flip, append, truncate, swap or deletion of a data object is detected and
    /// named (object, files, snapshot); restore fails for the files that use it, writes no wrong
    /// bytes, and still restores every other file byte-identical.
    @Test(arguments: ["flip", "append", "truncate", "swap", "delete"])
    func damagedPackIsNamedAndNeverRestored(damage: String) throws {
        let scratch = Scratch()
        let lifeboat = Lifeboat(scratch: scratch)
        let source = scratch.path("corrupt")
        try Lifeboat.sh(
            """
            mkdir -p '\(source)'
            for i in $(seq 1 8); do head -c 8M /dev/urandom > '\(source)/f'$i; done
            printf 'small\\n' > '\(source)/tiny'
            """)
        try lifeboat.initialize()
        let backup = try lifeboat.run(["backup", source])
        #expect(backup.status == 0, "\(backup.output)")
        // 64 MiB of incompressible data fills several 16 MiB packs; damage the largest.
        let sizes = try Self.packs(lifeboat.repository).map {
            ($0, try FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int ?? 0)
        }.sorted { $0.1 > $1.1 }
        #expect(sizes.count >= 4)
        let victim = sizes[0].0
        let victimID = URL(fileURLWithPath: victim).lastPathComponent
        let other = sizes[1].0
        switch damage {
        case "flip":
            try Lifeboat.sh(
                """
                chmod u+w '\(victim)'
                python3 - '\(victim)' <<'PY'
                import os, sys
                p = sys.argv[1]; n = os.path.getsize(p)
                with open(p, 'r+b') as f:
                    f.seek(n // 2); b = f.read(1); f.seek(n // 2); f.write(bytes([b[0] ^ 0x01]))
                PY
                """)
        case "append": try Lifeboat.sh("chmod u+w '\(victim)'; printf 'boom\\n' >> '\(victim)'")
        case "truncate": try Lifeboat.sh("chmod u+w '\(victim)'; truncate -s -1 '\(victim)'")
        case "swap": try Lifeboat.sh("chmod u+w '\(victim)'; cat '\(other)' > '\(victim)'")
        default: try Lifeboat.sh("rm -f '\(victim)'")
        }
        let check = try lifeboat.run(["check", "--read-data"])
        #expect(check.status != 0)
        #expect(check.output.contains(victimID), "\(check.output)")
        if damage == "flip" { #expect(check.output.contains("authentication") || check.output.contains("does not match")) }
        // The files that use the damaged pack, as check names them.
        let names = (1...8).map { "f\($0)" } + ["tiny"]
        let affected = Set(names.filter { check.output.contains(source + "/" + $0 + " has data in a damaged pack") })
        #expect(!affected.isEmpty, "check did not name the affected files: \(check.output)")
        if damage != "flip" {
            let quick = try lifeboat.run(["check"])
            #expect(quick.status != 0, "metadata-only check missed \(damage)")
        }

        let target = scratch.path("restore")
        let restore = try lifeboat.run(["restore", "latest", "--target", target])
        #expect(restore.status != 0)
        if damage == "flip" {
            #expect(affected.contains { !FileManager.default.fileExists(atPath: target + source + "/" + $0) })
        }
        // A flipped bit damages one blob, so check names only the files using it; other damage
        // condemns the whole pack. Either way, exactly the named files fail to restore.
        for name in names {
            let restored = target + source + "/" + name
            if affected.contains(name) {
                #expect(restore.output.contains(name), "restore did not name \(name): \(restore.output)")
                #expect(!FileManager.default.fileExists(atPath: restored), "\(name) restored from a damaged pack")
            } else {
                #expect(
                    FileManager.default.contentsEqual(atPath: restored, andPath: source + "/" + name),
                    "intact file \(name) not restored identical")
            }
        }

        // Repair takes the damaged pack out, keeping its intact blobs; a forced backup then
        // stores the lost data again, which heals the first snapshot too (same blob IDs).
        let repair = try lifeboat.run(["repair"])
        #expect(repair.status == 0 && repair.output.contains("1 pack removed"), "\(repair.output)")
        #expect(!FileManager.default.fileExists(atPath: victim))
        let again = try lifeboat.run(["backup", "--force", source])
        #expect(again.status == 0, "\(again.output)")
        let healed = try lifeboat.run(["check", "--read-data"])
        #expect(healed.status == 0, "after repair and backup --force: \(healed.output)")
        let listing = try JSONSerialization.jsonObject(with: Data(try lifeboat.run(["snapshots", "--json"]).stdout.utf8))
        let firstID = try #require(((listing as? [[String: Any]])?.first?["id"]) as? String)
        let healedTarget = scratch.path("healed")
        let second = try lifeboat.run(["restore", firstID, "--target", healedTarget])
        #expect(second.status == 0, "\(second.output)")
        for name in names {
            #expect(FileManager.default.contentsEqual(atPath: healedTarget + source + "/" + name, andPath: source + "/" + name),
                    "\(name) not restored identical from the healed first snapshot")
        }
    }

    /// A repository with one snapshot of three 6 MiB random files (several packs).
    static func backedUpThreeFiles() throws -> (Lifeboat, source: String) {
        let scratch = Scratch()
        let lifeboat = Lifeboat(scratch: scratch)
        let source = scratch.path("src")
        try Lifeboat.sh("mkdir -p '\(source)' && for i in 1 2 3; do head -c 6M /dev/urandom > '\(source)/f'$i; done")
        try lifeboat.initialize()
        #expect(try lifeboat.run(["backup", source]).status == 0)
        return (lifeboat, source)
    }

    /// Inverts one byte of a file (writing a fixed byte would leave it unchanged when it
    /// already had that value, one time in 256).
    static func flipByte(_ path: String, at offset: Int) throws {
        try Lifeboat.sh(
            """
            chmod u+w '\(path)'
            python3 - '\(path)' \(offset) <<'PY'
            import sys
            with open(sys.argv[1], 'r+b') as f:
                f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xFF]))
            PY
            """)
    }

    static func expectLatestRestoresThreeFiles(_ lifeboat: Lifeboat, _ source: String) throws {
        let target = lifeboat.scratch.path("restore")
        #expect(try lifeboat.run(["restore", "latest", "--target", target]).status == 0)
        for i in 1...3 {
            #expect(FileManager.default.contentsEqual(atPath: target + source + "/f\(i)", andPath: source + "/f\(i)"))
        }
    }

    /// A damaged or lost index file does not lock the repository: check names it, and repair
    /// removes it and indexes its (intact) pack again from the pack's own header.
    @Test(arguments: ["flip", "truncate", "delete"])
    func damagedIndexFileIsRepairedFromThePacks(damage: String) throws {
        let (lifeboat, source) = try Self.backedUpThreeFiles()
        let victim = try #require(
            try Lifeboat.sh("find '\(lifeboat.repository)/index' -type f ! -name '.*' | sort | head -1")
                .split(separator: "\n").first.map(String.init))
        switch damage {
        case "flip": try Self.flipByte(victim, at: 40)
        case "truncate": try Lifeboat.sh("chmod u+w '\(victim)'; truncate -s 10 '\(victim)'")
        default: try Lifeboat.sh("rm -f '\(victim)'")
        }
        let check = try lifeboat.run(["check"])
        #expect(check.status != 0 && check.output.contains("lifeboat repair"), "\(check.output)")
        // Missing blobs are reported once per file, not once per blob.
        let missingLines = check.output.split(separator: "\n").filter { $0.contains(" missing") }
        #expect(missingLines.count <= 3, "\(check.output)")
        let repair = try lifeboat.run(["repair"])
        #expect(repair.status == 0 && repair.output.contains("1 pack indexed again"), "\(repair.output)")
        let healed = try lifeboat.run(["check", "--read-data"])
        #expect(healed.status == 0, "after repair: \(healed.output)")
        try Self.expectLatestRestoresThreeFiles(lifeboat, source)
    }

    /// A pack deleted by hand while the local cache still lists it: the next backup warns,
    /// stores the data again instead of pointing the new snapshot at the missing pack, and
    /// repair then takes the pack out of the index files.
    @Test func backupAfterALostPackStoresItsDataAgain() throws {
        let (lifeboat, source) = try Self.backedUpThreeFiles()
        let victim = try #require(
            try Lifeboat.sh("find '\(lifeboat.repository)/data' -type f ! -name '.*' -size +1M | head -1")
                .split(separator: "\n").first.map(String.init))
        try Lifeboat.sh("rm -f '\(victim)'")
        let backup = try lifeboat.run(["backup", "--force", source])
        #expect(backup.status == 0, "\(backup.output)")
        #expect(backup.output.contains("missing from the repository") && backup.output.contains("lifeboat repair"),
                "\(backup.output)")
        try Self.expectLatestRestoresThreeFiles(lifeboat, source)
        // The first snapshot still lacks the lost data: check says so until repair and the
        // new backup's blobs (same IDs) make it whole again.
        #expect(try lifeboat.run(["check"]).status != 0)
        #expect(try lifeboat.run(["repair"]).status == 0)
        let healed = try lifeboat.run(["check", "--read-data"])
        #expect(healed.status == 0, "after repair: \(healed.output)")
    }

    /// A snapshot object that no longer authenticates cannot be read by any means: check and
    /// `snapshots` name it and point at repair, repair removes it, and the other snapshots and
    /// all data stay.
    @Test(arguments: ["flip", "truncate"])
    func damagedSnapshotIsRemovedByRepair(damage: String) throws {
        let (lifeboat, source) = try Self.backedUpThreeFiles()
        try Lifeboat.sh("echo more >> '\(source)/f1'")
        #expect(try lifeboat.run(["backup", source]).status == 0)
        let victim = try #require(
            try Lifeboat.sh("ls -t '\(lifeboat.repository)/snapshots' | tail -1").split(separator: "\n").first.map(String.init))
        let path = lifeboat.repository + "/snapshots/" + victim
        if damage == "flip" { try Self.flipByte(path, at: 30) } else { try Lifeboat.sh("chmod u+w '\(path)'; truncate -s 20 '\(path)'") }
        let check = try lifeboat.run(["check"])
        #expect(check.status != 0 && check.output.contains("snapshots/\(victim)") && check.output.contains("lifeboat repair"),
                "\(check.output)")
        let listing = try lifeboat.run(["snapshots"])
        #expect(listing.status != 0 && listing.output.contains("lifeboat repair"), "\(listing.output)")
        let repair = try lifeboat.run(["repair"])
        #expect(repair.status == 0 && repair.output.contains("removed unreadable snapshot \(victim)"), "\(repair.output)")
        let healed = try lifeboat.run(["check", "--read-data"])
        #expect(healed.status == 0, "after repair: \(healed.output)")
        #expect(try lifeboat.run(["snapshots", "--json"]).status == 0)
        // The remaining (newer) snapshot restores what the files hold now.
        try Self.expectLatestRestoresThreeFiles(lifeboat, source)
    }

    /// Damaged index files and damaged packs together: a pack only the lost index listed is
    /// unlisted and fails its hash, so repair treats it as damaged too (salvage, then remove).
    @Test func damagedPacksBehindADamagedIndexFileAreRepairedToo() throws {
        let (lifeboat, source) = try Self.backedUpThreeFiles()
        try Lifeboat.sh(
            """
            cd '\(lifeboat.repository)' && chmod -R u+w index data
            for f in $(find index -type f ! -name '.*'); do truncate -s 10 "$f"; done
            """)
        for pack in try Lifeboat.sh("find '\(lifeboat.repository)/data' -type f ! -name '.*' -size +1M").split(separator: "\n") {
            try Self.flipByte(String(pack), at: 1_000_000)
        }
        let repair = try lifeboat.run(["repair"])
        #expect(repair.status == 0 && repair.output.contains("removed damaged pack"), "\(repair.output)")
        #expect(try lifeboat.run(["backup", "--force", source]).status == 0)
        let healed = try lifeboat.run(["check", "--read-data"])
        #expect(healed.status == 0, "after repair and backup --force: \(healed.output)")
        try Self.expectLatestRestoresThreeFiles(lifeboat, source)
    }

    /// Case 022 (local repository part): SIGKILL mid-backup leaves a repository that `check`
    /// passes; the rerun reuses the packs already written and takes over the stale lock.
    @Test func killedBackupResumesWithoutStoringAgain() throws {
        let scratch = Scratch()
        let lifeboat = Lifeboat(scratch: scratch)
        let source = scratch.path("src")
        try Lifeboat.sh(
            """
            mkdir -p '\(source)'
            for i in $(seq 1 12); do head -c 20000000 /dev/urandom > '\(source)/f'$i; done
            """)
        try lifeboat.initialize()
        let process = try lifeboat.start(["backup", source])
        // Kill once some packs are on disk.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, (try Self.packs(lifeboat.repository)).count < 3 { usleep(20_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let written = try Self.packs(lifeboat.repository)
        #expect(written.count >= 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: lifeboat.repository + "/locks").count == 1)

        let check = try lifeboat.run(["check"])
        #expect(check.status == 0, "\(check.output)")

        let rerun = try #require(try lifeboat.json(["backup", source]) as? [String: Any])
        let added = rerun["bytes_added"] as? Int ?? 0
        // The rerun stores only what the killed run had not: 240 MB total minus the packs kept.
        let kept = try written.reduce(0) { $0 + (try FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int ?? 0) }
        #expect(added <= 240_000_000 - kept + 2_000_000, "rerun re-stored data: added \(added), kept \(kept)")
        for pack in written { #expect(FileManager.default.fileExists(atPath: pack)) }
        // The killed run's half-written spool file is swept by the rerun.
        let spool = try Lifeboat.sh("find '\(lifeboat.repository)/data' -name '.spool-*'")
        #expect(spool.isEmpty, "left over: \(spool)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: lifeboat.repository + "/locks").isEmpty)
        let final = try lifeboat.run(["check", "--read-data"])
        #expect(final.status == 0, "\(final.output)")
        let target = scratch.path("restore")
        #expect(try lifeboat.run(["restore", "latest", "--target", target]).status == 0)
        #expect(try Lifeboat.treefp(source) == (try Lifeboat.treefp(target + source)))
    }

    @Test func twoBackupsAtOnceBothSucceed() throws {
        let scratch = Scratch()
        let lifeboat = Lifeboat(scratch: scratch)
        let a = scratch.path("a")
        let b = scratch.path("b")
        try Lifeboat.sh(
            """
            mkdir -p '\(a)' '\(b)'
            for i in 1 2 3; do head -c 8000000 /dev/urandom > '\(a)/f'$i; head -c 8000000 /dev/urandom > '\(b)/f'$i; done
            cp '\(a)/f1' '\(b)/shared'
            """)
        try lifeboat.initialize()
        let group = DispatchGroup()
        nonisolated(unsafe) var results: [Lifeboat.Result] = []
        let lock = NSLock()
        for path in [a, b] {
            group.enter()
            DispatchQueue.global().async {
                defer { group.leave() }
                if let result = try? lifeboat.run(["backup", path]) {
                    lock.lock()
                    results.append(result)
                    lock.unlock()
                }
            }
        }
        group.wait()
        #expect(results.count == 2)
        for result in results { #expect(result.status == 0, "\(result.output)") }
        let snapshots = try #require(try lifeboat.json(["snapshots"]) as? [[String: Any]])
        #expect(snapshots.count == 2)
        #expect(try lifeboat.run(["check", "--read-data"]).status == 0)
    }
}
