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

    /// A fresh scratch area: `root/repo` for the repository, `root/cache` for the cache.
    init(scratch: Scratch) {
        repository = scratch.path("repo")
        cache = scratch.path("cache")
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
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes concurrently so a chatty child cannot block on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var stdoutData = Data()
        nonisolated(unsafe) var stderrData = Data()
        group.enter()
        DispatchQueue.global().async {
            stdoutData = out.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        stderrData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
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
final class Scratch {
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
