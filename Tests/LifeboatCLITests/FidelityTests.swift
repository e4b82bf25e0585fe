import Foundation
import Testing

/// Issue "Fidelity": one tree that mixes every kind of name, file type and metadata, backed up
/// and restored through the real binary, then compared with a fingerprint covering names as
/// bytes, types, sizes, contents, modes, numeric owners, nanosecond mtimes, link targets,
/// hard-link structure, xattrs and ACLs (treefp), plus hole maps and inode flags.
@Suite(.serialized) struct FidelityTests {
    /// Builds the tree under `root` (as root: devices, trusted.* xattrs, chattr, chown).
    static func buildEverything(_ root: String) throws {
        try Lifeboat.sh(
            """
            S='\(root)'
            mkdir -p "$S/names" "$S/types/emptydir" "$S/meta"
            cd "$S"
            # Names: non-UTF-8, newline, escape, leading dash, 255 bytes, two normalisations.
            printf a > names/$'\\xff\\xfe-bin'
            printf b > names/$'new\\nline'
            printf c > names/$'esc\\x1b[31m'
            printf d > names/-rf
            printf e > "names/$(printf 'n%.0s' $(seq 1 255))"
            printf f > names/$'caf\\xc3\\xa9'
            printf g > names/$'cafe\\xcc\\x81'
            # A chain 3000 directories deep (a path of ~6000 bytes, beyond PATH_MAX).
            python3 - "$S" <<'PY'
            import os, sys
            os.chdir(sys.argv[1]); os.mkdir('deep'); os.chdir('deep')
            for _ in range(3000):
                os.mkdir('d'); os.chdir('d')
            open('bottom', 'w').write('deepest\\n')
            PY
            # Types.
            ln -s ../names types/relative; ln -s /etc/passwd types/absolute; ln -s nowhere types/dangling
            ln -s self types/self; ln -s .. types/up
            printf linked > types/hl1; ln types/hl1 types/hl2; ln types/hl1 names/hl3
            mkfifo types/fifo
            mknod types/chr c 1 3; mknod types/blk b 7 200
            python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('$S/types/sock')"
            truncate -s 100M types/sparse
            printf data | dd of=types/sparse bs=1 seek=52428800 conv=notrunc status=none
            dd if=/dev/zero of=types/sparse bs=1M count=2 seek=10 conv=notrunc status=none
            # Metadata.
            printf s > meta/setuid; chmod 4755 meta/setuid
            printf g > meta/setgid; chmod 2711 meta/setgid
            mkdir meta/sticky; chmod 1777 meta/sticky
            printf o > meta/no-such-owner; chown 54321:54321 meta/no-such-owner
            printf t > meta/before-1970; touch -d '1969-07-20 20:17:40.123456789 UTC' meta/before-1970
            printf t > meta/after-2038; touch -d '2100-01-01 00:00:00.987654321 UTC' meta/after-2038
            touch -h -d '2001-01-01 00:00:00.5 UTC' types/absolute
            printf x > meta/xattrs
            setfattr -n user.k -v v meta/xattrs; setfattr -n trusted.t -v secret meta/xattrs
            setfattr -n user.bin -v 0x00ff00 meta/xattrs
            cp /bin/true meta/capability; setcap cap_net_raw+ep meta/capability
            mkdir meta/acl; setfacl -m u:1234:rx,g:5678:r,m::rx meta/acl; setfacl -d -m u:1234:rwx meta/acl
            printf f > meta/acl/file; setfacl -m u:999:r meta/acl/file
            mkdir meta/readonly-dir; printf r > meta/readonly-dir/inside; chmod 0555 meta/readonly-dir
            printf i > meta/immutable; chattr +i meta/immutable
            printf a > meta/append-only; chattr +a meta/append-only
            printf d > meta/no-dump; chattr +d meta/no-dump
            touch -d '2010-10-10 10:10:10.101010101 UTC' meta names types
            """)
    }

    /// A scratch area with the tree built under `src` and backed up into a new repository.
    static func backedUpEverything() throws -> (Scratch, Lifeboat, String) {
        let scratch = Scratch()
        let lifeboat = Lifeboat(scratch: scratch)
        let source = scratch.path("src")
        try buildEverything(source)
        try lifeboat.initialize()
        let backup = try lifeboat.run(["backup", source])
        try #require(backup.status == 0, "\(backup.output)")
        return (scratch, lifeboat, source)
    }

    /// treefp, plus the hole map of the sparse file and the inode flags of the flagged files.
    static func fingerprint(_ directory: String) throws -> String {
        let tree = try Lifeboat.treefp(directory)
        let holes = try Lifeboat.holemap(directory + "/types/sparse")
        let flags = try Lifeboat.sh(
            "cd '\(directory)' && lsattr -d meta/immutable meta/append-only meta/no-dump | awk '{print $1}'")
        return tree + holes + flags
    }

    @Test func everythingRoundTripsAsRoot() throws {
        let (scratch, lifeboat, source) = try Self.backedUpEverything()
        let target = scratch.path("restore")
        let restore = try lifeboat.run(["restore", "latest", "--target", target])
        #expect(restore.status == 0, "\(restore.output)")
        // Sockets are recorded, and skipped on restore with a note.
        #expect(restore.stderr.contains("sock"), "\(restore.output)")
        #expect(try Self.fingerprint(source) == (try Self.fingerprint(target + source)))
        let listing = try lifeboat.run(["ls", "latest", source + "/types", "-l"])
        #expect(listing.stdout.contains("types/sock"))
        #expect(listing.stdout.contains("types/self -> self"))
    }

    /// Restoring over a target whose entries have other types or sizes gives exactly the
    /// snapshot: a directory where a file was, a file where a directory was, a symlink (pointing
    /// outside) where a file was, a bigger file where a smaller one was.
    @Test func restoreOverConflictingEntriesIsExact() throws {
        let (scratch, lifeboat, source) = try Self.backedUpEverything()
        let target = scratch.path("restore")
        let outside = scratch.path("outside")
        let t = target + source
        try Lifeboat.sh(
            """
            mkdir -p '\(outside)' '\(t)/meta' '\(t)/types' '\(t)/names'
            mkdir -p '\(t)/meta/xattrs/sub'                          # dir where a file is
            printf 'a file' > '\(t)/types/emptydir'                   # file where a dir is
            ln -s '\(outside)/victim' '\(t)/meta/setuid'              # symlink where a file is
            head -c 100000 /dev/urandom > '\(t)/types/hl1'            # bigger file
            mkfifo '\(t)/names/-rf'                                    # fifo where a file is
            ln -s '\(outside)' '\(t)/deep'                            # symlinked dir where a dir is
            """)
        let restore = try lifeboat.run(["restore", "latest", "--target", target])
        #expect(restore.status == 0, "\(restore.output)")
        #expect(try Self.fingerprint(source) == (try Self.fingerprint(t)))
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty, "wrote through a planted symlink")
    }

    /// Restoring as an ordinary user restores what that user may: names, contents, modes (less
    /// setuid/setgid), times, links, user.* xattrs and ACLs; owners, devices, trusted.* and
    /// capabilities cannot be set, and that is said in one line each, not per file.
    @Test func restoreByNonRootUser() throws {
        let (scratch, lifeboat, source) = try Self.backedUpEverything()
        let target = scratch.path("restore")
        try Lifeboat.sh(
            "mkdir -p '\(target)'; chown 65534:65534 '\(target)'; chmod -R a+rwX '\(lifeboat.repository)' '\(lifeboat.cache)'; chmod 755 '\(scratch.root)'")
        let restore = try Lifeboat.exec(
            ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Lifeboat.binary,
             "--repo", lifeboat.repository, "--no-cache", "restore", "latest", "--target", target],
            environment: ["LIFEBOAT_PASSWORD": lifeboat.password, "HOME": target])
        let lines = restore.stderr.split(separator: "\n")
        // One summary line for owners, not one per file.
        #expect(lines.filter { $0.contains("owner") }.count <= 1, "\(restore.stderr)")
        #expect(lines.count < 30, "flood of errors: \(restore.stderr)")
        let t = target + source
        // Contents, names and links are all there.
        let compare = try Lifeboat.sh(
            """
            cd '\(source)'
            for f in names/* types/hl1 types/hl2 meta/xattrs meta/before-1970 meta/after-2038 meta/readonly-dir/inside; do
              cmp -s "$f" '\(t)'/"$f" || echo "differs: $f"
            done
            [ "$(stat -c %i '\(t)/types/hl1')" = "$(stat -c %i '\(t)/types/hl2')" ] || echo "hard link lost"
            [ "$(readlink '\(t)/types/self')" = self ] || echo "symlink lost"
            python3 -c "import os; os.chdir('\(t)/deep'); [os.chdir('d') for _ in range(3000)]; assert open('bottom').read() == 'deepest\\n'" || echo "deep chain lost"
            [ "$(stat -c %y '\(t)/meta/before-1970')" = "$(stat -c %y meta/before-1970)" ] || echo "mtime lost"
            [ "$(getfattr --only-values -n user.k '\(t)/meta/xattrs')" = v ] || echo "user xattr lost"
            find '\(t)' -perm /6000 -printf 'set-id: %p\\n'
            [ "$(stat -c %a '\(t)/meta/readonly-dir')" = 555 ] || echo "read-only dir mode lost"
            [ "$(stat -c %u '\(t)/meta/xattrs')" = 65534 ] || echo "not owned by the restoring user"
            """)
        #expect(compare == "", "\(compare)")
        #expect(restore.status == 0 || restore.status == 1, "\(restore.output)")
    }
}
