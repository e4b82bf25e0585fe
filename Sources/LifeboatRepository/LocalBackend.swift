import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A repository in a local directory (the embedded default, or a NAS mount).
///
/// Writes are durable and atomic: a temporary file in the target directory (`O_EXCL`), `fsync`,
/// `rename` into place, `fsync` of the directory. A crash leaves at most a `.tmp-*` file, which
/// readers ignore. Stored objects are made read-only.
public final class LocalBackend: Backend {
    public let root: String

    public init(root: String) {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
    }

    public var location: String { root }

    private func path(_ name: ObjectName) -> String { root + "/" + name.path }

    private func error(_ op: String, _ name: ObjectName, errno code: Int32) -> BackendError {
        let message = "\(op) \(path(name)): \(String(cString: strerror(code)))"
        switch code {
        case ENOENT: return BackendError(.notFound, object: name.path, message: message)
        case EEXIST: return BackendError(.alreadyExists, object: name.path, message: message)
        case ENOSPC, EDQUOT:
            return BackendError(.noSpace, object: name.path, message: message + " (free space on \(root) and retry)")
        default: return BackendError(.io, object: name.path, message: message)
        }
    }

    /// Creates the directory layout of a new repository; fails if `config` already exists.
    public func createLayout() throws {
        let directories = [root] + ObjectKind.allCases.filter({ $0 != .config }).map({ root + "/" + $0.rawValue })
        for dir in directories {
            if mkdir(dir, 0o700) != 0 && errno != EEXIST {
                throw BackendError(.io, object: dir, message: "cannot create \(dir): \(String(cString: strerror(errno)))")
            }
        }
    }

    public func save(_ name: ObjectName, bytes: [UInt8]) throws {
        let final = path(name)
        let directory = String(final[..<(final.lastIndex(of: "/") ?? final.endIndex)])
        if name.kind == .data, mkdir(directory, 0o700) != 0, errno != EEXIST {
            throw error("create directory for", name, errno: errno)
        }
        let temporary = directory + "/.tmp-" + UUID().uuidString.prefix(12)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o400)
        guard fd >= 0 else { throw error("create", name, errno: errno) }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            try bytes.withUnsafeBytes { buffer in
                var done = 0
                while done < buffer.count {
                    let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw error("write", name, errno: errno)
                    }
                    done += n
                }
            }
            guard fsync(fd) == 0 else { throw error("fsync", name, errno: errno) }
        }
        guard rename(temporary, final) == 0 else { throw error("rename into", name, errno: errno) }
        ok = true
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            defer { close(dirfd) }
            guard fsync(dirfd) == 0 else { throw error("fsync directory of", name, errno: errno) }
        }
    }

    public func load(_ name: ObjectName, offset: Int, length: Int?) throws -> [UInt8] {
        let fd = open(path(name), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw error("open", name, errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw error("stat", name, errno: errno) }
        let size = Int(st.st_size)
        let count = length ?? (size - offset)
        guard offset >= 0, count >= 0, offset + count <= size else {
            throw BackendError(
                .io, object: name.path,
                message: "range \(offset)..<\(offset + count) is beyond the object's \(size) bytes (truncated?)")
        }
        var out = [UInt8](repeating: 0, count: count)
        try out.withUnsafeMutableBytes { buffer in
            var done = 0
            while done < count {
                let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw error("read", name, errno: errno)
                }
                if n == 0 { throw BackendError(.io, object: name.path, message: "unexpected end of file") }
                done += n
            }
        }
        return out
    }

    public func size(_ name: ObjectName) throws -> Int {
        var st = stat()
        guard stat(path(name), &st) == 0 else { throw error("stat", name, errno: errno) }
        return Int(st.st_size)
    }

    public func list(_ kind: ObjectKind) throws -> [(name: String, size: Int)] {
        if kind == .config {
            return (try? size(.config)).map { [("config", $0)] } ?? []
        }
        let base = root + "/" + kind.rawValue
        let directories = kind == .data ? (try entries(base)).map { base + "/" + $0 } : [base]
        var result: [(name: String, size: Int)] = []
        for directory in directories {
            for entry in try entries(directory) where !entry.hasPrefix(".") {
                var st = stat()
                if stat(directory + "/" + entry, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
                    result.append((entry, Int(st.st_size)))
                }
            }
        }
        return result.sorted { $0.name < $1.name }
    }

    private func entries(_ directory: String) throws -> [String] {
        guard let dir = opendir(directory) else {
            if errno == ENOENT { return [] }
            throw BackendError(.io, object: directory, message: "cannot list \(directory): \(String(cString: strerror(errno)))")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func remove(_ name: ObjectName) throws {
        guard unlink(path(name)) == 0 else { throw error("remove", name, errno: errno) }
    }
}
