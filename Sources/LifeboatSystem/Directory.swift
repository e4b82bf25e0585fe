import Glibc

/// One entry of a directory listing.
public struct DirectoryEntry: Sendable, Hashable {
    /// The name as raw bytes (never "." or "..").
    public var name: [UInt8]
    /// From `d_type`; `.unknown` when the file system does not say (then stat the entry).
    public var type: FileType
    public var inode: UInt64
}

extension FileDescriptor {
    /// Lists this directory (without "." and ".."). Works on a duplicate, so this descriptor
    /// stays usable for `openAt` and the listing can be repeated.
    public func listDirectory() throws -> [DirectoryEntry] {
        let dup = try duplicate()
        // fdopendir takes over the duplicate; closedir below closes it.
        let rawDup = dup.rawValue
        guard let stream = fdopendir(rawDup) else {
            throw SystemError("list directory", errno: .current)
        }
        // Ownership moved to the DIR stream: stop the FileDescriptor from closing it too.
        dup.release()
        defer { closedir(stream) }
        rewinddir(stream)
        var entries = [DirectoryEntry]()
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                let error = Errno.current
                if error.code == 0 { break }
                if error == .EINTR { continue }
                throw SystemError("list directory", errno: error)
            }
            let name: [UInt8] = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
                let length = raw.firstIndex(of: 0) ?? raw.count
                return Array(raw[0..<length])
            }
            if name == [0x2e] || name == [0x2e, 0x2e] { continue }
            let type: FileType
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_REG): type = .regular
            case Int32(DT_DIR): type = .directory
            case Int32(DT_LNK): type = .symlink
            case Int32(DT_FIFO): type = .fifo
            case Int32(DT_CHR): type = .characterDevice
            case Int32(DT_BLK): type = .blockDevice
            case Int32(DT_SOCK): type = .socket
            default: type = .unknown
            }
            entries.append(DirectoryEntry(name: name, type: type, inode: UInt64(entry.pointee.d_ino)))
        }
        return entries
    }
}
