import Foundation
import Testing

/// Runs the real `lifeboat` binary, as a user would, and captures what it prints.
struct Lifeboat {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var output: String { stdout + stderr }
    }

    static let binary: String = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidates = [here.appendingPathComponent("lifeboat").path]
        // `swift test` runs the .xctest bundle from inside the build directory.
        var dir = here
        for _ in 0..<4 {
            dir = dir.deletingLastPathComponent()
            candidates.append(dir.appendingPathComponent("lifeboat").path)
        }
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../.build/debug/lifeboat").standardized.path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? "lifeboat"
    }()

    let repository: String
    let cache: String
    var password = "test passphrase"
    /// Held so the scratch area lives as long as this value: ARC may end a local's lifetime
    /// after its last use, and the scratch's deinit removes the directory.
    let scratch: Scratch

    /// A fresh scratch area: `root/repo` for the repository, `root/cache` for the cache.
    init(scratch: Scratch) {
        self.scratch = scratch
        repository = scratch.path("repo")
        cache = scratch.path("cache")
    }

    /// `lifeboat init`, failing the test (with lifeboat's output) if it fails.
    func initialize(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try run(["init"])
        try #require(result.status == 0, "init failed: \(result.output)", sourceLocation: sourceLocation)
    }

    @discardableResult
    func run(_ arguments: [String], password: String? = nil, environment extra: [String: String] = [:]) throws -> Result {
        try Lifeboat.exec(
            [Lifeboat.binary, "--repo", repository, "--cache-dir", cache] + arguments,
            environment: ["LIFEBOAT_PASSWORD": password ?? self.password].merging(extra) { $1 })
    }

    /// Starts the binary without waiting (for kill tests).
    func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Lifeboat.binary)
        process.arguments = ["--repo", repository, "--cache-dir", cache] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LIFEBOAT_PASSWORD"] = password
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func exec(_ command: [String], environment extra: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0].hasPrefix("/") ? command[0] : "/usr/bin/env")
        process.arguments = command[0].hasPrefix("/") ? Array(command.dropFirst()) : command
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "LIFEBOAT_PASSWORD")
        environment.removeValue(forKey: "LIFEBOAT_REPOSITORY")
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        // Output goes to files, not pipes: a child that leaves background processes behind
        // (live-file writers) would otherwise hold the pipe open and the read would never end.
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("lifeboat-exec-\(UUID().uuidString)")
        let outURL = capture.appendingPathExtension("out")
        let errURL = capture.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try? out.close()
        try? err.close()
        let stdoutData = (try? Data(contentsOf: outURL)) ?? Data()
        let stderrData = (try? Data(contentsOf: errURL)) ?? Data()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: stderrData, as: UTF8.self))
    }

    /// Runs a shell snippet (fixtures and fingerprints); fails the test if it fails.
    @discardableResult
    static func sh(_ script: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try exec(["/bin/bash", "-c", "set -euo pipefail\n" + script])
        #expect(result.status == 0, "shell failed: \(script)\n\(result.stderr)", sourceLocation: sourceLocation)
        return result.stdout
    }

    /// The tree fingerprint of shared/cases/INDEX.md: names as bytes, types, sizes, contents,
    /// modes, numeric owners, nanosecond mtimes, link targets, hard-link structure, xattrs, ACLs.
    static func treefp(_ directory: String) throws -> String {
        try sh(
            """
            tar --xattrs --xattrs-include='*' --acls --sort=name --numeric-owner --format=posix \
                --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
                -C '\(directory)' -cf - . | sha256sum
            """)
    }

    /// Data segments of a file as SEEK_DATA/SEEK_HOLE report them.
    static func holemap(_ file: String) throws -> String {
        try sh(
            """
            python3 - '\(file)' <<'PY'
            import os, sys
            fd = os.open(sys.argv[1], os.O_RDONLY); end = os.fstat(fd).st_size; off = 0
            while off < end:
                try: d = os.lseek(fd, off, os.SEEK_DATA)
                except OSError: break
                h = os.lseek(fd, d, os.SEEK_HOLE); print(d, h); off = h
            PY
            """)
    }

    func json(_ arguments: [String]) throws -> Any {
        let result = try run(arguments + ["--json"])
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }
}

/// A temporary directory removed when the test ends, even when it fails.
final class Scratch: Sendable {
    let root: String

    init(_ label: String = "lifeboat") {
        root = "/tmp/\(label)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { root + "/" + name }

    deinit {
        // Immutable/append-only flags would block removal.
        _ = try? Lifeboat.exec(["/bin/sh", "-c", "chattr -R -ia '\(root)' 2>/dev/null; rm -rf '\(root)'"])
    }
}

// MARK: - Helpers for the acceptance cases (Tests/LifeboatCLITests/Cases*.swift)

/// Every acceptance-case suite is nested in this one, so the cases run one after another: several
/// of them (live writers, a full loop file system, multi-GiB files) would disturb each other's
/// timing on a small machine.
@Suite(.serialized) struct Cases {}

extension Lifeboat {
    /// Runs the binary behind a wrapper command: `prefix + [lifeboat, --repo, …] + arguments`
    /// (e.g. `["timeout", "120"]`, `["setpriv", "--reuid=65534", …]`, `["strace", …]`).
    @discardableResult
    func run(wrappedIn prefix: [String], _ arguments: [String], environment extra: [String: String] = [:]) throws
        -> Result
    {
        try Lifeboat.exec(
            prefix + [Lifeboat.binary, "--repo", repository, "--cache-dir", cache] + arguments,
            environment: ["LIFEBOAT_PASSWORD": password].merging(extra) { $1 })
    }

    /// Runs the binary with arguments given as raw bytes (names that are not valid UTF-8, which a
    /// Swift `String`, and so `Process`, cannot carry): python3 execs it with bytes arguments.
    @discardableResult
    func run(raw arguments: [[UInt8]]) throws -> Result {
        let script = """
            import base64, os, sys
            exe = os.fsencode(sys.argv[1])
            os.execv(exe, [exe] + [base64.b64decode(a) for a in sys.argv[2:]])
            """
        let fixed = ["--repo", repository, "--cache-dir", cache].map { Array($0.utf8) }
        return try Lifeboat.exec(
            ["python3", "-c", script, Lifeboat.binary] + (fixed + arguments).map { Data($0).base64EncodedString() },
            environment: ["LIFEBOAT_PASSWORD": password])
    }

    /// One entry of `ls --json`, with its path decoded from `path_base64`.
    struct Entry {
        var path: [UInt8]
        var object: [String: Any]
        var type: String { object["type"] as? String ?? "" }
        var size: Int { object["size"] as? Int ?? -1 }
        var mode: Int { object["mode"] as? Int ?? -1 }
        var uid: Int { object["uid"] as? Int ?? -1 }
        var gid: Int { object["gid"] as? Int ?? -1 }
        var pathString: String { String(decoding: path, as: UTF8.self) }
    }

    /// `ls SNAPSHOT [PATH] --json`, decoded (an empty array if the listing fails or is not JSON).
    func entries(_ snapshot: String = "latest", _ path: String? = nil, sourceLocation: SourceLocation = #_sourceLocation)
        throws -> [Entry]
    {
        let result = try run(["ls", snapshot] + (path.map { [$0] } ?? []) + ["--json"])
        #expect(result.status == 0, "ls --json: \(result.output)", sourceLocation: sourceLocation)
        guard let array = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] else {
            Issue.record("ls --json is not a JSON array: \(result.stdout.prefix(2000))", sourceLocation: sourceLocation)
            return []
        }
        return array.map { object in
            Entry(
                path: Array(Data(base64Encoded: object["path_base64"] as? String ?? "") ?? Data()), object: object)
        }
    }
}

extension Lifeboat {
    /// Byte-for-byte equality of two files (what `cmp` says), reading only the parts that are
    /// data in either file: a hole reads as zeros, so ranges that are holes in both are equal.
    /// `cmp` of two 8 GiB sparse files reads 16 GiB of zeros (a minute on this machine).
    static func sameContent(_ a: String, _ b: String) throws -> (equal: Bool, detail: String) {
        let result = try exec([
            "python3", "-c",
            """
            import os, sys
            def segments(fd, end):
                off, out = 0, []
                while off < end:
                    try: d = os.lseek(fd, off, os.SEEK_DATA)
                    except OSError: break
                    h = os.lseek(fd, d, os.SEEK_HOLE); out.append((d, h)); off = h
                return out
            fa = os.open(sys.argv[1], os.O_RDONLY); fb = os.open(sys.argv[2], os.O_RDONLY)
            na, nb = os.fstat(fa).st_size, os.fstat(fb).st_size
            if na != nb: sys.exit('sizes differ: %d %d' % (na, nb))
            ranges = sorted(segments(fa, na) + segments(fb, nb)); merged = []
            for s, e in ranges:
                if merged and s <= merged[-1][1]: merged[-1][1] = max(merged[-1][1], e)
                else: merged.append([s, e])
            for s, e in merged:
                off = s
                while off < e:
                    n = min(1 << 20, e - off)
                    if os.pread(fa, n, off) != os.pread(fb, n, off): sys.exit('differ in the MiB at offset %d' % off)
                    off += n
            """,
            a, b,
        ])
        return (result.status == 0, result.stderr)
    }
}

extension Lifeboat {
    /// Starts a shell script in its own session, detached from the test's pipes (close_fds, null
    /// stdio) so `exec` never waits on it; returns its process group for `stopDetached`.
    static func startDetached(_ script: String) throws -> Int32 {
        let result = try exec([
            "python3", "-c",
            """
            import subprocess, sys
            p = subprocess.Popen(['/bin/bash', '-c', sys.argv[1]], start_new_session=True, close_fds=True,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            print(p.pid)
            """,
            script,
        ])
        guard result.status == 0, let group = Int32(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)),
            group > 1
        else { throw FilesystemFixtureError("cannot start detached script: \(result.output)") }
        return group
    }

    /// SIGKILL to the whole group (children of the test process inherit its blocked signals, so
    /// SIGTERM may never arrive).
    static func stopDetached(_ group: Int32) {
        kill(-group, SIGKILL)
        usleep(200_000)
    }
}

struct FilesystemFixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
