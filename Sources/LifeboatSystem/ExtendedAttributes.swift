import CLinuxShims
import Glibc

/// Where extended attributes are read or written: an open descriptor (files, directories), or a
/// path used with the l* calls (symlinks and special files, which must not be opened).
public enum XattrTarget: Sendable {
    case descriptor(FileDescriptor)
    /// Not followed if it is a symlink. Use `FileDescriptor.procPath(_:)` to keep it short.
    case path([UInt8])

    var displayPath: [UInt8] {
        switch self {
        case .descriptor: return []
        case .path(let path): return path
        }
    }
}

/// One extended attribute as bytes.
public struct XattrEntry: Sendable, Hashable {
    public var name: [UInt8]
    public var value: [UInt8]
    public init(name: [UInt8], value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

public enum ExtendedAttributes {
    public static let createOnly: Int32 = 1  // XATTR_CREATE
    public static let replaceOnly: Int32 = 2  // XATTR_REPLACE

    /// The attribute names (all namespaces the caller may see).
    public static func list(_ target: XattrTarget) throws -> [[UInt8]] {
        var size = 1024
        while true {
            var buffer = [UInt8](repeating: 0, count: size)
            let count: Int = buffer.withUnsafeMutableBytes { raw in
                let pointer = raw.baseAddress?.assumingMemoryBound(to: CChar.self)
                while true {
                    let result: Int
                    switch target {
                    case .descriptor(let fd): result = cl_flistxattr(fd.rawValue, pointer, raw.count)
                    case .path(let path): result = withCPath(path) { cl_llistxattr($0, pointer, raw.count) }
                    }
                    if result < 0 && Errno.current == .EINTR { continue }
                    return result
                }
            }
            if count < 0 {
                let error = Errno.current
                if error == .ERANGE { size *= 4; continue }
                throw SystemError("list xattrs", path: target.displayPath, errno: error)
            }
            return buffer[0..<count].split(separator: 0, omittingEmptySubsequences: true).map { Array($0) }
        }
    }

    /// The value of one attribute; nil if it does not exist (ENODATA).
    public static func get(_ target: XattrTarget, name: [UInt8]) throws -> [UInt8]? {
        var size = 256
        while true {
            var buffer = [UInt8](repeating: 0, count: size)
            let count: Int = withCPath(name) { cname in
                buffer.withUnsafeMutableBytes { raw in
                    while true {
                        let result: Int
                        switch target {
                        case .descriptor(let fd): result = cl_fgetxattr(fd.rawValue, cname, raw.baseAddress, raw.count)
                        case .path(let path):
                            result = withCPath(path) { cl_lgetxattr($0, cname, raw.baseAddress, raw.count) }
                        }
                        if result < 0 && Errno.current == .EINTR { continue }
                        return result
                    }
                }
            }
            if count < 0 {
                let error = Errno.current
                if error == .ENODATA { return nil }
                if error == .ERANGE && size < 1 << 20 { size = max(size * 4, 65536); continue }
                throw SystemError("get xattr \(escapedForDisplay(name))", path: target.displayPath, errno: error)
            }
            return Array(buffer[0..<count])
        }
    }

    /// Every attribute with its value, sorted by name. Attributes that vanish between list and
    /// get are skipped.
    public static func all(_ target: XattrTarget) throws -> [XattrEntry] {
        var result = [XattrEntry]()
        // In the order the file system lists them: restoring in the same order gives a file
        // that lists them alike (ext4 keeps insertion order), which tar-based comparisons see.
        for name in try list(target) {
            if let value = try get(target, name: name) {
                result.append(XattrEntry(name: name, value: value))
            }
        }
        return result
    }

    public static func set(_ target: XattrTarget, name: [UInt8], value: [UInt8], flags: Int32 = 0) throws {
        let result: Int32 = withCPath(name) { cname in
            value.withUnsafeBytes { raw in
                while true {
                    let result: Int32
                    switch target {
                    case .descriptor(let fd): result = cl_fsetxattr(fd.rawValue, cname, raw.baseAddress, raw.count, flags)
                    case .path(let path):
                        result = withCPath(path) { cl_lsetxattr($0, cname, raw.baseAddress, raw.count, flags) }
                    }
                    if result < 0 && Errno.current == .EINTR { continue }
                    return result
                }
            }
        }
        if result != 0 {
            throw SystemError("set xattr \(escapedForDisplay(name))", path: target.displayPath, errno: .current)
        }
    }

    public static func remove(_ target: XattrTarget, name: [UInt8]) throws {
        let result: Int32 = withCPath(name) { cname in
            while true {
                let result: Int32
                switch target {
                case .descriptor(let fd): result = cl_fremovexattr(fd.rawValue, cname)
                case .path(let path): result = withCPath(path) { cl_lremovexattr($0, cname) }
                }
                if result < 0 && Errno.current == .EINTR { continue }
                return result
            }
        }
        if result != 0 {
            let error = Errno.current
            if error == .ENODATA { return }
            throw SystemError("remove xattr \(escapedForDisplay(name))", path: target.displayPath, errno: error)
        }
    }
}
