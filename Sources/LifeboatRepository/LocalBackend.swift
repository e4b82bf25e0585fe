import Foundation
import LifeboatSystem

/// A repository in a local directory (the embedded default, or a NAS mount).
///
/// Writes are durable and atomic (`writeFileAtomically`: a temporary file in the target
/// directory, `fsync`, `rename`, `fsync` of the directory), so a crash leaves at most a
/// `.lb-*.tmp` file, which listings ignore. Stored objects are read-only (0400).
public final class LocalBackend: Backend {
    public let root: String

    public init(root: String) {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
    }

    public var location: String { root }

    private func path(_ name: ObjectName) -> String { root + "/" + name.path }

    /// Maps a system error to the backend's error classes, keeping the system's message.
    private func translate(_ error: any Error, _ name: ObjectName) -> any Error {
        guard let error = error as? SystemError else { return error }
        let code: BackendError.Code
        var message = error.description
        switch error.errno {
        case .ENOENT, .ENOTDIR: code = .notFound
        case .EEXIST: code = .alreadyExists
        default:
            if error.errno.isOutOfSpace {
                code = .noSpace
                message += " (free space on \(root) and retry)"
            } else {
                code = .io
            }
        }
        return BackendError(code, object: name.path, message: message)
    }

    private func withTranslatedErrors<R>(_ name: ObjectName, _ body: () throws -> R) throws -> R {
        do { return try body() } catch { throw translate(error, name) }
    }

    /// Creates the directory layout of a new repository.
    public func createLayout() throws {
        let directories = [root] + ObjectKind.allCases.filter({ $0 != .config }).map({ root + "/" + $0.rawValue })
        for directory in directories {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw BackendError(.io, object: directory, message: "cannot create \(directory): \(error.localizedDescription)")
            }
        }
    }

    public func save(_ name: ObjectName, bytes: [UInt8]) throws {
        try withTranslatedErrors(name) {
            try makePackDirectory(for: name)
            try writeFileAtomically(path: Array(path(name).utf8), contents: bytes, mode: 0o400)
        }
    }

    /// Pack directories (`data/ab`) are made on first use.
    private func makePackDirectory(for name: ObjectName) throws {
        guard name.kind == .data else { return }
        let (directory, _) = splitPath(Array(path(name).utf8))
        let (parent, leaf) = splitPath(directory)
        do {
            try FileDescriptor.open(parent, flags: [.directory, .readOnly]).makeDirectory(leaf, mode: 0o700)
        } catch let error as SystemError where error.errno == .EEXIST {}
    }

    public var spoolDirectory: String? { root + "/data" }

    /// The spool file is already durable (the pack writer fsyncs it): a rename into place and an
    /// fsync of the directory make the pack appear atomically.
    public func store(_ name: ObjectName, spooledFile spooled: String) throws {
        try withTranslatedErrors(name) {
            try makePackDirectory(for: name)
            let (spoolDirectory, spoolName) = splitPath(Array(spooled.utf8))
            let (directory, leaf) = splitPath(Array(path(name).utf8))
            let source = try FileDescriptor.open(spoolDirectory, flags: [.directory, .readOnly])
            let destination = try FileDescriptor.open(directory, flags: [.directory, .readOnly])
            try source.changeMode(of: spoolName, permissions: 0o400)
            try source.rename(spoolName, to: leaf, in: destination)
            try destination.sync()
        }
    }

    public func load(_ name: ObjectName, offset: Int, length: Int?) throws -> [UInt8] {
        try withTranslatedErrors(name) {
            let fd = try FileDescriptor.open(path(name), flags: .readOnly)
            let size = Int(try fd.status().size)
            let count = length ?? (size - offset)
            guard offset >= 0, count >= 0, offset + count <= size else {
                throw BackendError(
                    .io, object: name.path,
                    message: "range \(offset)..<\(offset + count) is beyond the object's \(size) bytes (truncated?)")
            }
            var out = [UInt8](repeating: 0, count: count)
            let read = try out.withUnsafeMutableBytes { try fd.readFully(into: $0, at: UInt64(offset)) }
            guard read == count else {
                throw BackendError(.io, object: name.path, message: "unexpected end of file after \(read) of \(count) bytes")
            }
            return out
        }
    }

    public func size(_ name: ObjectName) throws -> Int {
        try withTranslatedErrors(name) {
            Int(try FileDescriptor.open(path(name), flags: .pathOnly).status().size)
        }
    }

    public func list(_ kind: ObjectKind) throws -> [(name: String, size: Int)] {
        if kind == .config {
            return (try? size(.config)).map { [("config", $0)] } ?? []
        }
        let base = root + "/" + kind.rawValue
        var directories = [base]
        if kind == .data {
            directories = try entries(base).list.filter { $0.type == .directory || $0.type == .unknown }
                .map { base + "/" + String(decoding: $0.name, as: UTF8.self) }
        }
        var result: [(name: String, size: Int)] = []
        for directory in directories {
            let (fd, list) = try entries(directory)
            guard let fd else { continue }
            for entry in list where entry.name.first != UInt8(ascii: ".") {
                // d_type may be unknown (some network file systems): the stat decides.
                let status = try fd.statusAt(entry.name)
                if status.type == .regular {
                    result.append((String(decoding: entry.name, as: UTF8.self), Int(status.size)))
                }
            }
        }
        return result.sorted { $0.name < $1.name }
    }

    /// The entries of a directory and the descriptor they were read from; none (and no
    /// descriptor) when the directory does not exist.
    private func entries(_ directory: String) throws -> (fd: FileDescriptor?, list: [DirectoryEntry]) {
        do {
            let fd = try FileDescriptor.open(directory, flags: [.directory, .readOnly])
            return (fd, try fd.listDirectory())
        } catch let error as SystemError where error.errno == .ENOENT {
            return (nil, [])
        } catch {
            throw BackendError(.io, object: directory, message: "cannot list \(directory): \(error)")
        }
    }

    public func remove(_ name: ObjectName) throws {
        try withTranslatedErrors(name) {
            let (directory, leaf) = splitPath(Array(path(name).utf8))
            try FileDescriptor.open(directory, flags: [.directory, .readOnly]).unlink(leaf)
        }
    }
}
