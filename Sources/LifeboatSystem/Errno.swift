import CLinuxShims
import Glibc

/// An `errno` value with its symbolic name and description.
public struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    public let code: Int32

    public init(_ code: Int32) { self.code = code }

    /// The calling thread's current `errno`.
    public static var current: Errno { Errno(Glibc.errno) }

    /// "ENOENT"; "E<number>" for codes the C library does not know.
    public var name: String {
        if let name = cl_errno_name(code) { return String(cString: name) }
        return "E\(code)"
    }

    /// "No such file or directory" (locale-independent, thread-safe).
    public var message: String {
        if let text = cl_errno_description(code) { return String(cString: text) }
        return "Unknown error \(code)"
    }

    /// "No such file or directory (ENOENT)".
    public var description: String { "\(message) (\(name))" }

    public static func == (lhs: Errno, rhs: Errno) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public static let EPERM = Errno(Glibc.EPERM)
    public static let ENOENT = Errno(Glibc.ENOENT)
    public static let EINTR = Errno(Glibc.EINTR)
    public static let EIO = Errno(Glibc.EIO)
    public static let ENXIO = Errno(Glibc.ENXIO)
    public static let EBADF = Errno(Glibc.EBADF)
    public static let EAGAIN = Errno(Glibc.EAGAIN)
    public static let ENOMEM = Errno(Glibc.ENOMEM)
    public static let EACCES = Errno(Glibc.EACCES)
    public static let EEXIST = Errno(Glibc.EEXIST)
    public static let EXDEV = Errno(Glibc.EXDEV)
    public static let ENOTDIR = Errno(Glibc.ENOTDIR)
    public static let EISDIR = Errno(Glibc.EISDIR)
    public static let EINVAL = Errno(Glibc.EINVAL)
    public static let EMFILE = Errno(Glibc.EMFILE)
    public static let ENOTTY = Errno(Glibc.ENOTTY)
    public static let EFBIG = Errno(Glibc.EFBIG)
    public static let ENOSPC = Errno(Glibc.ENOSPC)
    public static let EROFS = Errno(Glibc.EROFS)
    public static let ERANGE = Errno(Glibc.ERANGE)
    public static let ENAMETOOLONG = Errno(Glibc.ENAMETOOLONG)
    public static let ENOTEMPTY = Errno(Glibc.ENOTEMPTY)
    public static let ELOOP = Errno(Glibc.ELOOP)
    public static let ENODATA = Errno(Glibc.ENODATA)
    public static let ENOTSUP = Errno(Glibc.ENOTSUP)
    public static let EOPNOTSUPP = Errno(Glibc.EOPNOTSUPP)
    public static let EDQUOT = Errno(Glibc.EDQUOT)
    public static let ESTALE = Errno(Glibc.ESTALE)
    public static let ENOSYS = Errno(Glibc.ENOSYS)

    /// The operation is not supported by this file system or object (ENOTSUP, ENOTTY, ...).
    public var isUnsupported: Bool {
        code == Glibc.ENOTSUP || code == Glibc.EOPNOTSUPP || code == Glibc.ENOTTY
            || code == Glibc.ENOSYS || code == Glibc.EINVAL
    }

    /// The file system is out of space or quota.
    public var isOutOfSpace: Bool { code == Glibc.ENOSPC || code == Glibc.EDQUOT }
}

/// A failed system call: which operation, on which path, and the errno it returned.
///
/// The message is meant for a person: `open "/srv/a\x1bb": Permission denied (EACCES) — ...`.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    /// The call or action: "open", "read", "rename", "set xattr user.k", ...
    public var operation: String
    /// The path (or name) the call was about, as raw bytes; empty when not applicable.
    public var path: [UInt8]
    public var errno: Errno

    public init(_ operation: String, path: [UInt8] = [], errno: Errno) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public init(_ operation: String, path: String, errno: Errno) {
        self.init(operation, path: Array(path.utf8), errno: errno)
    }

    /// The path escaped for display.
    public var displayPath: String { escapedForDisplay(path) }

    public var description: String {
        var text = operation
        if !path.isEmpty { text += " \"\(displayPath)\"" }
        text += ": \(errno)"
        if let hint { text += " — \(hint)" }
        return text
    }

    /// What the user can do about it, for the errors where that is clear.
    public var hint: String? {
        switch errno.code {
        case Glibc.EACCES, Glibc.EPERM:
            return "check the permissions and ownership, or run as root"
        case Glibc.ENOSPC: return "the file system is full; free space or use another target"
        case Glibc.EDQUOT: return "the disk quota is exhausted"
        case Glibc.EROFS: return "the file system is mounted read-only"
        case Glibc.ENOENT: return "the path does not exist (or vanished)"
        case Glibc.ENAMETOOLONG: return "a name is longer than the file system allows"
        case Glibc.EMFILE, Glibc.ENFILE: return "too many open files; raise the limit (ulimit -n)"
        case Glibc.EIO: return "an I/O error: check the device and the kernel log"
        default: return nil
        }
    }
}

/// Runs a system call, retrying while it fails with EINTR. Returns the result or throws.
/// Never use this for `close`: on Linux a close interrupted by a signal has still closed the fd.
@inline(__always)
public func retryingEINTR<T: BinaryInteger>(
    _ operation: @autoclosure () -> String, path: [UInt8] = [], _ body: () -> T
) throws -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let error = Errno.current
        if error == .EINTR { continue }
        throw SystemError(operation(), path: path, errno: error)
    }
}

/// Runs `body` with a NUL-terminated copy of `bytes`.
@inline(__always)
public func withCPath<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
    var copy = bytes
    copy.append(0)
    return try copy.withUnsafeBytes { raw in
        // Never empty: the copy holds at least the terminator.
        try body(raw.bindMemory(to: CChar.self).baseAddress!)
    }
}
