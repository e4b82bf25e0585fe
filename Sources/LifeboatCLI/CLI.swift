import Foundation
import LifeboatFiles
import LifeboatRepository
internal import CLinuxShims
#if canImport(Glibc)
import Glibc
#endif

/// Exit codes of `lifeboat` (documented in the README; scripts rely on them).
public enum ExitCode: Int32, Sendable {
    case success = 0
    case failure = 1
    /// A snapshot was created but some entries could not be read, or changed or vanished
    /// while read (each is named).
    case partial = 3
    case repositoryMissing = 10
    case wrongPassphrase = 12
    case interrupted = 130
}

/// An error that ends the command with a given exit code and one clear line.
struct CommandError: Error, CustomStringConvertible {
    let code: ExitCode
    let description: String

    init(_ code: ExitCode = .failure, _ description: String) {
        self.code = code
        self.description = description
    }
}

public enum LifeboatCLI {
    static let version = "0.1.0"

    static let usage = """
        lifeboat \(version): encrypted, deduplicated backups

        Usage: lifeboat [--repo DIR] [--password-file FILE] [--json] COMMAND [ARGS]

        Commands:
          init                         create a repository
          backup PATH...               back up files and directories
          snapshots                    list snapshots
          ls SNAPSHOT [PATH]           list the files of a snapshot (-l for details)
          restore SNAPSHOT --target DIR [--include PATH]... [--owner-names]
                                       restore a snapshot, or parts of it (owners by
                                       numeric ID unless --owner-names maps user names)
          check [--read-data]          verify the repository (every byte with --read-data)
          repair                       take damaged or missing packs out (intact data kept)
          key list | key add           list keys, add a passphrase
          version                      print the version

        SNAPSHOT is an ID, a unique prefix of one, or `latest`.

        Options for every command:
          --repo DIR            repository (or LIFEBOAT_REPOSITORY)
          --password-file FILE  read the passphrase from FILE (or LIFEBOAT_PASSWORD_FILE);
                                LIFEBOAT_PASSWORD gives it directly; otherwise it is asked
          --cache-dir DIR       local index cache (default $XDG_CACHE_HOME/lifeboat, else
                                /var/cache/lifeboat for root, ~/.cache/lifeboat for others)
          --no-cache            keep the index cache in memory only
          --json                machine-readable output on stdout
          --quiet               no progress and no summary, only warnings and errors

        Exit codes: 0 ok, 1 error, 3 snapshot saved but some entries were unreadable or
        changed while read (each named),
        10 no repository, 12 wrong passphrase, 130 interrupted.
        """

    /// Runs one command line given as strings (tests, callers without raw bytes).
    public static func run(_ arguments: [String]) -> Int32 {
        run(rawArguments: arguments.map { Array($0.utf8) })
    }

    /// Runs one command line as the kernel passed it (paths need not be UTF-8); returns the
    /// process exit code.
    public static func run(rawArguments arguments: [[UInt8]]) -> Int32 {
        Interrupts.install()
        // Chunk-sized buffers (1-8 MiB) come and go thousands of times a second. glibc's default
        // raises its mmap threshold after each free until such buffers live in the heap, whose
        // fragments then hold twice the working set; a fixed threshold returns them at once.
        _ = cl_tune_allocator(4 << 20, 8 << 20, 4)
        do {
            return try dispatch(arguments).rawValue
        } catch let error as CommandError {
            Terminal.error("lifeboat: \(error.description)")
            return error.code.rawValue
        } catch let error as UsageError {
            Terminal.error("lifeboat: \(error.description) (see `lifeboat --help`)")
            return ExitCode.failure.rawValue
        } catch let error as RepositoryError {
            Terminal.error("lifeboat: \(error.message)")
            switch error.code {
            case .repositoryMissing: return ExitCode.repositoryMissing.rawValue
            case .wrongPassphrase: return ExitCode.wrongPassphrase.rawValue
            default: return ExitCode.failure.rawValue
            }
        } catch {
            Terminal.error("lifeboat: \(error)")
            return ExitCode.failure.rawValue
        }
    }

    static let globalValued: Set<String> = ["repo", "password-file", "cache-dir"]
    static let globalSwitches: Set<String> = ["json", "quiet", "no-cache", "help"]

    private static func dispatch(_ rawArguments: [[UInt8]]) throws -> ExitCode {
        let arguments = rawArguments.map { String(decoding: $0, as: UTF8.self) }
        // The command is the first positional; options may come before or after it.
        guard let commandIndex = commandIndex(arguments) else {
            if arguments.contains("--version") {
                Terminal.print("lifeboat \(version)")
                return .success
            }
            Terminal.print(usage)
            return arguments.isEmpty ? .failure : .success
        }
        let command = arguments[commandIndex]
        var rest = rawArguments
        rest.remove(at: commandIndex)
        guard let spec = Commands.specs[command] else {
            throw UsageError("unknown command \"\(command)\"")
        }
        let parsed = try Arguments(
            raw: rest,
            spec: Arguments.Spec(
                valued: spec.valued.union(globalValued), switches: spec.switches.union(globalSwitches),
                aliases: spec.aliases))
        if parsed.flag("help") {
            Terminal.print(spec.help)
            return .success
        }
        let context = Context(arguments: parsed)
        return try spec.run(context)
    }

    private static func commandIndex(_ arguments: [String]) -> Int? {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if globalValued.contains(where: { "--" + $0 == argument }) {
                index += 2
                continue
            }
            if !argument.hasPrefix("-") { return index }
            index += 1
        }
        return nil
    }
}

/// What every command gets: its arguments, and the repository they point at.
/// A repository lock that an interrupt (SIGINT, SIGTERM) also releases, so an interrupted
/// command leaves no lock behind.
struct InterruptibleLock {
    private let lock: RepositoryLock
    private let token: Int

    init(_ repository: Repository, exclusive: Bool) throws {
        let lock = try RepositoryLock.acquire(repository, exclusive: exclusive)
        self.lock = lock
        token = Interrupts.onInterrupt { lock.release() }
    }

    func release() {
        Interrupts.remove(token)
        lock.release()
    }
}

struct Context {
    let arguments: Arguments
    var json: Bool { arguments.flag("json") }
    var quiet: Bool { arguments.flag("quiet") }

    var repositoryPath: String {
        get throws {
            if let path = arguments.value("repo") ?? ProcessInfo.processInfo.environment["LIFEBOAT_REPOSITORY"],
                !path.isEmpty
            {
                return path
            }
            throw CommandError(.failure, "no repository given: pass --repo DIR or set LIFEBOAT_REPOSITORY")
        }
    }

    /// `--threads N`: workers of a backup or restore, or nil for the default (one per core).
    var threads: Int? {
        get throws {
            guard let text = arguments.value("threads") else { return nil }
            guard let count = Int(text), (1...64).contains(count) else {
                throw UsageError("--threads takes a whole number from 1 to 64, not '\(text)'")
            }
            return count
        }
    }

    var backend: LocalBackend {
        get throws { LocalBackend(root: try repositoryPath) }
    }

    var cache: CacheLocation {
        get throws {
            if arguments.flag("no-cache") { return .memory }
            guard let directory = arguments.value("cache-dir") else { return .default }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
                throw CommandError(.failure, "--cache-dir \(directory) is not a directory; give a directory (it is created if missing)")
            }
            return .directory(directory)
        }
    }

    /// The passphrase from LIFEBOAT_PASSWORD, --password-file / LIFEBOAT_PASSWORD_FILE, or a prompt.
    func passphrase(confirm: Bool = false) throws -> [UInt8] {
        let environment = ProcessInfo.processInfo.environment
        if let file = arguments.value("password-file") ?? environment["LIFEBOAT_PASSWORD_FILE"] {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandError(.failure, "cannot read the password file \(file); check the path and its permissions")
            }
            var bytes = [UInt8](data)
            while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
            guard !bytes.isEmpty else { throw CommandError(.failure, "the password file \(file) is empty") }
            return bytes
        }
        if let password = environment["LIFEBOAT_PASSWORD"] {
            guard !password.isEmpty else { throw CommandError(.failure, "LIFEBOAT_PASSWORD is set but empty") }
            return Array(password.utf8)
        }
        guard Terminal.stdinIsTerminal, let first = Terminal.readSecret(prompt: "passphrase: ") else {
            throw CommandError(
                .failure, "no passphrase: set LIFEBOAT_PASSWORD, pass --password-file FILE, or run on a terminal")
        }
        guard !first.isEmpty else { throw CommandError(.failure, "the passphrase must not be empty") }
        if confirm {
            guard Terminal.readSecret(prompt: "passphrase again: ") == first else {
                throw CommandError(.failure, "the passphrases do not match; nothing was created")
            }
        }
        return Array(first.utf8)
    }

    func openRepository() throws -> Repository {
        let backend = try backend
        return try Repository.open(backend: backend, passphrase: try passphrase(), cache: try cache)
    }
}

/// Ctrl-C and SIGTERM: release what must be released (repository locks), then exit 130.
enum Interrupts {
    private static let cleanups = CleanupList()
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func install() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                cleanups.runAll()
                Terminal.error("\nlifeboat: interrupted; what was written so far is kept and the next run continues from it")
                exit(ExitCode.interrupted.rawValue)
            }
            source.resume()
            sources.append(source)
        }
    }

    static func onInterrupt(_ action: @escaping @Sendable () -> Void) -> Int { cleanups.add(action) }
    static func remove(_ token: Int) { cleanups.remove(token) }
}

final class CleanupList: @unchecked Sendable {
    private let lock = NSLock()
    private var actions: [Int: @Sendable () -> Void] = [:]
    private var next = 0

    func add(_ action: @escaping @Sendable () -> Void) -> Int {
        lock.lock()
        defer { lock.unlock() }
        next += 1
        actions[next] = action
        return next
    }

    func remove(_ token: Int) {
        lock.lock()
        defer { lock.unlock() }
        actions[token] = nil
    }

    func runAll() {
        lock.lock()
        let all = actions.values
        lock.unlock()
        for action in all { action() }
    }
}
