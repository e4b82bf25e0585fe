import Glibc
import LifeboatRepository
import LifeboatSystem

let slash = UInt8(ascii: "/")

/// Path helpers on byte strings.
enum PathBytes {
    /// Lexically normalised absolute path: no empty or "." components, ".." applied, no trailing
    /// slash; "/" for the root. Relative paths are taken against the current directory.
    static func absolute(_ path: [UInt8]) -> [UInt8] {
        var full = path
        if full.first != slash {
            full = currentDirectory() + [slash] + full
        }
        return normalise(full)
    }

    static func normalise(_ path: [UInt8]) -> [UInt8] {
        var parts = [[UInt8]]()
        for part in path.split(separator: slash, omittingEmptySubsequences: true) {
            if part.elementsEqual([UInt8(ascii: ".")]) { continue }
            if part.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(Array(part))
        }
        return join(parts)
    }

    static func components(_ path: [UInt8]) -> [[UInt8]] {
        path.split(separator: slash, omittingEmptySubsequences: true).map { Array($0) }
    }

    static func join(_ parts: [[UInt8]]) -> [UInt8] {
        if parts.isEmpty { return [slash] }
        var out = [UInt8]()
        for part in parts {
            out.append(slash)
            out.append(contentsOf: part)
        }
        return out
    }

    /// `directory` + "/" + `name`, where the root directory is written as "" or "/".
    static func child(_ directory: [UInt8], _ name: [UInt8]) -> [UInt8] {
        var out = directory == [slash] ? [] : directory
        out.append(slash)
        out.append(contentsOf: name)
        return out
    }

    /// Every strict ancestor of an absolute path, except "/".
    static func ancestors(_ path: [UInt8]) -> [[UInt8]] {
        var result = [[UInt8]]()
        var index = path.count - 1
        while index > 0 {
            if path[index] == slash { result.append(Array(path[0..<index])) }
            index -= 1
        }
        return result
    }

    static func currentDirectory() -> [UInt8] {
        var size = 4096
        while size <= 1 << 20 {
            var buffer = [CChar](repeating: 0, count: size)
            if getcwd(&buffer, size) != nil {
                return buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            }
            if Errno.current != .ERANGE { break }
            size *= 4
        }
        return [slash]
    }

    /// realpath(3) of a directory, or nil if it cannot be resolved.
    static func realDirectory(_ path: [UInt8]) -> [UInt8]? {
        withCPath(path) { cpath -> [UInt8]? in
            guard let resolved = realpath(cpath, nil) else { return nil }
            defer { free(resolved) }
            var out = [UInt8]()
            var pointer = resolved
            while pointer.pointee != 0 {
                out.append(UInt8(bitPattern: pointer.pointee))
                pointer += 1
            }
            return out
        }
    }

    /// A valid directory entry name: not empty, ".", "..", and no "/" or NUL.
    static func isValidName(_ name: [UInt8]) -> Bool {
        if name.isEmpty || name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] {
            return false
        }
        return !name.contains(slash) && !name.contains(0)
    }

    static func matches(pattern: [UInt8], path: [UInt8]) -> Bool {
        withCPath(pattern) { p in withCPath(path) { s in fnmatch(p, s, 0) == 0 } }
    }
}

extension Timestamp {
    init(_ time: TimeSpec) { self.init(seconds: time.seconds, nanoseconds: time.nanoseconds) }
    var timeSpec: TimeSpec { TimeSpec(seconds: seconds, nanoseconds: nanoseconds) }
}

extension Node.Kind {
    init?(_ type: FileType) {
        switch type {
        case .regular: self = .file
        case .directory: self = .directory
        case .symlink: self = .symlink
        case .fifo: self = .fifo
        case .characterDevice: self = .characterDevice
        case .blockDevice: self = .blockDevice
        case .socket: self = .socket
        case .unknown: return nil
        }
    }

    var fileType: FileType {
        switch self {
        case .file: return .regular
        case .directory: return .directory
        case .symlink: return .symlink
        case .fifo: return .fifo
        case .characterDevice: return .characterDevice
        case .blockDevice: return .blockDevice
        case .socket: return .socket
        }
    }
}
