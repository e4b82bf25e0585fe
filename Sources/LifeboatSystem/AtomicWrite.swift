import Glibc

/// A short, random name for a temporary file next to its final name: `.lb-<12 hex>.tmp`
/// (20 bytes, far below NAME_MAX whatever the final name's length).
public func temporaryName() -> [UInt8] {
    var random = [UInt8](repeating: 0, count: 6)
    random.withUnsafeMutableBytes { raw in
        if let base = raw.baseAddress { arc4random_buf(base, raw.count) }
    }
    let digits = Array("0123456789abcdef".utf8)
    var name = Array(".lb-".utf8)
    for byte in random {
        name.append(digits[Int(byte >> 4)])
        name.append(digits[Int(byte & 0x0f)])
    }
    name.append(contentsOf: Array(".tmp".utf8))
    return name
}

/// True for names `temporaryName()` makes: `.lb-` and 12 lowercase hex digits, then `.tmp`.
public func isTemporaryName(_ name: [UInt8]) -> Bool {
    let prefix = Array(".lb-".utf8), suffix = Array(".tmp".utf8)
    guard name.count == prefix.count + 12 + suffix.count, name.starts(with: prefix), name.suffix(4).elementsEqual(suffix)
    else { return false }
    return name[prefix.count..<(prefix.count + 12)].allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
}

extension FileDescriptor {
    /// Creates a new file with a fresh temporary name in this directory (O_EXCL, O_NOFOLLOW).
    public func createTemporaryFile(mode: UInt32 = 0o600, flags: OpenFlags = .writeOnly)
        throws -> (name: [UInt8], descriptor: FileDescriptor)
    {
        var attempts = 0
        while true {
            let name = temporaryName()
            do {
                let fd = try openAt(name, flags: flags.union([.create, .exclusive, .noFollow]), mode: mode)
                return (name, fd)
            } catch let error as SystemError where error.errno == .EEXIST && attempts < 16 {
                attempts += 1
            }
        }
    }

    /// Durably replaces `name` in this directory with `contents`: writes a temporary file in the
    /// same directory, fsyncs it, renames it over `name` and fsyncs the directory. On failure
    /// the temporary file is removed and `name` keeps its old content.
    public func writeFileAtomically(_ name: [UInt8], contents: UnsafeRawBufferPointer, mode: UInt32 = 0o600) throws {
        let (temp, fd) = try createTemporaryFile(mode: mode)
        do {
            try fd.writeAll(contents)
            try fd.changeMode(mode)
            try fd.sync()
            try fd.close()
            try rename(temp, to: name)
        } catch {
            try? unlink(temp)
            throw error
        }
        try sync()
    }

    public func writeFileAtomically(_ name: [UInt8], contents: [UInt8], mode: UInt32 = 0o600) throws {
        try contents.withUnsafeBytes { try writeFileAtomically(name, contents: $0, mode: mode) }
    }
}

/// Durably replaces the file at `path` (see `FileDescriptor.writeFileAtomically`).
public func writeFileAtomically(path: [UInt8], contents: [UInt8], mode: UInt32 = 0o600) throws {
    let (directory, name) = splitPath(path)
    let dirfd = try FileDescriptor.open(directory, flags: [.directory, .readOnly])
    try dirfd.writeFileAtomically(name, contents: contents, mode: mode)
}

public func writeFileAtomically(path: String, contents: [UInt8], mode: UInt32 = 0o600) throws {
    try writeFileAtomically(path: Array(path.utf8), contents: contents, mode: mode)
}

/// Splits a path into its directory ("." when none) and its last component.
public func splitPath(_ path: [UInt8]) -> (directory: [UInt8], name: [UInt8]) {
    var trimmed = path
    while trimmed.count > 1 && trimmed.last == UInt8(ascii: "/") { trimmed.removeLast() }
    guard let slash = trimmed.lastIndex(of: UInt8(ascii: "/")) else { return (Array(".".utf8), trimmed) }
    let name = Array(trimmed[(slash + 1)...])
    var directory = Array(trimmed[..<slash])
    if directory.isEmpty { directory = [UInt8(ascii: "/")] }
    return (directory, name)
}
