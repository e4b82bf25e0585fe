import Foundation
import Glibc
import Testing

@testable import LifeboatSystem

/// A fresh directory under /tmp, removed (including immutable flags) when the body returns.
func withTemporaryDirectory<R>(_ body: (String, FileDescriptor) throws -> R) throws -> R {
    var template = Array("/tmp/lbsys-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
        return String(cString: base)
    }
    guard let path else { throw SystemError("mkdtemp", errno: .current) }
    defer { shell("chattr -R -ia '\(path)' 2>/dev/null; rm -rf '\(path)'") }
    let fd = try FileDescriptor.open(path, flags: [.directory, .readOnly])
    return try body(path, fd)
}

@discardableResult
func shell(_ command: String) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", command]
    do { try process.run() } catch { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct ErrnoTests {
    @Test func namesAndMessages() {
        #expect(Errno.ENOENT.name == "ENOENT")
        #expect(Errno.ENOENT.message == "No such file or directory")
        #expect(Errno(9999).name == "E9999")
        let error = SystemError("open", path: [0x2f, 0x61, 0x1b, 0x0a], errno: .EACCES)
        #expect(error.description.contains("open \"/a\\x1b\\n\": Permission denied (EACCES)"))
        #expect(!error.description.contains("\n"))
    }

    @Test func missingFileThrowsWithPath() throws {
        #expect(throws: SystemError.self) { try FileDescriptor.open("/nonexistent/lifeboat", flags: .readOnly) }
        do {
            _ = try FileDescriptor.open("/nonexistent/lifeboat", flags: .readOnly)
        } catch let error as SystemError {
            #expect(error.errno == .ENOENT)
            #expect(error.path == bytes("/nonexistent/lifeboat"))
        }
    }
}

@Suite struct DisplayTests {
    @Test func escapes() {
        #expect(escapedForDisplay(bytes("plain.txt")) == "plain.txt")
        #expect(escapedForDisplay([0x6b, 0x6f, 0xdf]) == "ko\\xdf")
        #expect(escapedForDisplay([0x62, 0x80, 0xff]) == "b\\x80\\xff")
        #expect(escapedForDisplay(bytes("line1\nfile")) == "line1\\nfile")
        #expect(escapedForDisplay(bytes("esc\u{1b}[31m")) == "esc\\x1b[31m")
        #expect(escapedForDisplay(bytes("tab\there\r")) == "tab\\there\\r")
        #expect(escapedForDisplay(bytes("back\\slash")) == "back\\\\slash")
        #expect(escapedForDisplay(bytes("Grüße ✓")) == "Grüße ✓")
        #expect(escapedForDisplay(bytes("a\u{2028}b")) == "a\\u{2028}b")
        // Overlong encoding of "/" and a truncated sequence.
        #expect(escapedForDisplay([0xc0, 0xaf]) == "\\xc0\\xaf")
        #expect(escapedForDisplay([0xe2, 0x82]) == "\\xe2\\x82")
    }
}

@Suite(.serialized) struct FileTests {
    @Test func writeReadStat() throws {
        try withTemporaryDirectory { path, dir in
            let (temp, fd) = try dir.createTemporaryFile()
            #expect(temp.count <= 20)
            try fd.writeAll(bytes("hello world"))
            try fd.setTimes(access: TimeSpec(seconds: -100, nanoseconds: 5),
                            modification: TimeSpec(seconds: 4_102_444_800, nanoseconds: 999_999_999))
            let status = try fd.status()
            #expect(status.type == .regular)
            #expect(status.size == 11)
            #expect(status.mtime == TimeSpec(seconds: 4_102_444_800, nanoseconds: 999_999_999))
            #expect(status.atime == TimeSpec(seconds: -100, nanoseconds: 5))
            let again = try dir.statusAt(temp)
            #expect(again.inode == status.inode && again.device == status.device)
            let reader = try dir.openAt(temp, flags: [.readOnly, .noFollow])
            #expect(try reader.readAll() == bytes("hello world"))
        }
    }

    @Test func listDirectoryWithOddNames() throws {
        try withTemporaryDirectory { path, dir in
            let names: [[UInt8]] = [
                [0x6b, 0xdf], bytes("line1\nfile has vanished"), bytes("-rf --help"),
                bytes("esc\u{1b}[31m"), [UInt8](repeating: 0x61, count: 255),
            ]
            for name in names {
                _ = try dir.openAt(name, flags: [.writeOnly, .create, .exclusive])
            }
            try dir.makeDirectory(bytes("sub"), mode: 0o755)
            try dir.makeSymlink(bytes("link"), target: bytes("does-not-exist"))
            let listed = try dir.listDirectory()
            #expect(Set(listed.map(\.name)) == Set(names + [bytes("sub"), bytes("link")]))
            #expect(listed.first { $0.name == bytes("sub") }?.type == .directory)
            #expect(listed.first { $0.name == bytes("link") }?.type == .symlink)
            #expect(try dir.readLink(bytes("link")) == bytes("does-not-exist"))
            // Listing twice gives the same result (works on a duplicate descriptor).
            #expect(try dir.listDirectory().count == listed.count)
            #expect(try dir.statusAt(bytes("link")).type == .symlink)
        }
    }

    @Test func deepPathBeyondPathMax() throws {
        try withTemporaryDirectory { path, dir in
            var current = dir
            let component = [UInt8](repeating: 0x64, count: 250)
            for _ in 0..<20 {
                try current.makeDirectory(component, mode: 0o755)
                current = try current.openAt(component, flags: [.directory, .noFollow])
            }
            let file = try current.openAt(bytes("deep"), flags: [.writeOnly, .create])
            try file.writeAll(bytes("deep\n"))
            #expect(try current.statusAt(bytes("deep")).size == 5)
        }
    }

    @Test func extendedAttributesOnFilesAndSymlinks() throws {
        try withTemporaryDirectory { path, dir in
            let fd = try dir.openAt(bytes("f"), flags: [.readWrite, .create])
            try ExtendedAttributes.set(.descriptor(fd), name: bytes("user.note"), value: [0, 1, 0xff])
            try ExtendedAttributes.set(.descriptor(fd), name: bytes("trusted.tag"), value: bytes("secret"))
            let all = try ExtendedAttributes.all(.descriptor(fd))
            #expect(all.contains(XattrEntry(name: bytes("user.note"), value: [0, 1, 0xff])))
            #expect(all.contains(XattrEntry(name: bytes("trusted.tag"), value: bytes("secret"))))
            #expect(try ExtendedAttributes.get(.descriptor(fd), name: bytes("user.none")) == nil)
            try ExtendedAttributes.remove(.descriptor(fd), name: bytes("user.note"))
            #expect(try ExtendedAttributes.get(.descriptor(fd), name: bytes("user.note")) == nil)

            // A symlink: the attribute lands on the link itself, not on its target.
            try dir.makeSymlink(bytes("l"), target: bytes("f"))
            let linkPath = XattrTarget.path(dir.procPath(bytes("l")))
            try ExtendedAttributes.set(linkPath, name: bytes("trusted.link"), value: bytes("on-link"))
            #expect(try ExtendedAttributes.get(linkPath, name: bytes("trusted.link")) == bytes("on-link"))
            #expect(try ExtendedAttributes.get(.descriptor(fd), name: bytes("trusted.link")) == nil)
            #expect(shell("getfattr -h -n trusted.link '\(path)/l' | grep -q on-link") == 0)
        }
    }

    @Test func inodeFlags() throws {
        try withTemporaryDirectory { path, dir in
            let fd = try dir.openAt(bytes("f"), flags: [.writeOnly, .create])
            var flags = try fd.inodeFlags()
            flags.insert(.appendOnly)
            try fd.setInodeFlags(flags)
            #expect(try fd.inodeFlags().contains(.appendOnly))
            #expect(shell("lsattr '\(path)/f' | cut -c1-8 | grep -q a") == 0)
            flags.remove(.appendOnly)
            try fd.setInodeFlags(flags)
            #expect(!(try fd.inodeFlags().contains(.appendOnly)))
        }
    }

    @Test func sparseDataRanges() throws {
        try withTemporaryDirectory { path, dir in
            #expect(shell("cd '\(path)' && truncate -s 64M s && printf HEAD | dd of=s conv=notrunc status=none && printf T | dd of=s bs=1 seek=$((32*1048576)) conv=notrunc status=none && truncate -s 1G h && dd if=/dev/zero of=z bs=1M count=2 status=none") == 0)
            let s = try dir.openAt(bytes("s"), flags: .readOnly)
            let ranges = try s.dataRanges(size: try s.status().size)
            #expect(ranges.count == 2)
            #expect(ranges.first?.offset == 0)
            #expect(ranges.last.map { $0.offset <= 32 << 20 && $0.end > 32 << 20 } == true)
            let h = try dir.openAt(bytes("h"), flags: .readOnly)
            #expect(try h.dataRanges(size: 1 << 30).isEmpty)
            let z = try dir.openAt(bytes("z"), flags: .readOnly)
            #expect(try z.dataRanges(size: 2 << 20) == [DataRange(offset: 0, length: 2 << 20)])
        }
    }

    @Test func atomicWrite() throws {
        try withTemporaryDirectory { path, dir in
            try writeFileAtomically(path: path + "/config", contents: bytes("one"), mode: 0o640)
            try writeFileAtomically(path: path + "/config", contents: bytes("two"), mode: 0o640)
            let fd = try dir.openAt(bytes("config"), flags: .readOnly)
            #expect(try fd.readAll() == bytes("two"))
            #expect(try fd.status().permissions == 0o640)
            #expect(try dir.listDirectory().map(\.name) == [bytes("config")])
            // A failure (target is a non-empty directory) leaves no temporary file behind.
            try dir.makeDirectory(bytes("d"), mode: 0o755)
            _ = try dir.openAt(bytes("d/x"), flags: [.writeOnly, .create])
            #expect(throws: SystemError.self) { try dir.writeFileAtomically(bytes("d"), contents: bytes("x")) }
            #expect(Set(try dir.listDirectory().map(\.name)) == [bytes("config"), bytes("d")])
        }
    }

    @Test func specialNodes() throws {
        try withTemporaryDirectory { path, dir in
            try dir.makeNode(bytes("fifo"), type: .fifo, permissions: 0o640, rdev: 0)
            try dir.makeNode(bytes("chr"), type: .characterDevice, permissions: 0o600,
                             rdev: FileStatus.makeDevice(major: 1, minor: 3))
            #expect(try dir.statusAt(bytes("fifo")).type == .fifo)
            let chr = try dir.statusAt(bytes("chr"))
            #expect(chr.type == .characterDevice && chr.rdevMajor == 1 && chr.rdevMinor == 3)
            try dir.changeOwner(of: bytes("fifo"), uid: 123, gid: 456)
            let fifo = try dir.statusAt(bytes("fifo"))
            #expect(fifo.uid == 123 && fifo.gid == 456)
        }
    }

    @Test func identities() {
        #expect(IdentityCache.shared.userName(0) == "root")
        #expect(IdentityCache.shared.groupName(0) == "root")
        #expect(IdentityCache.shared.userID(named: "root") == 0)
        #expect(IdentityCache.shared.userName(4_000_000_000) == nil)
    }

    @Test func splitting() {
        #expect(splitPath(bytes("/a/b")) == (bytes("/a"), bytes("b")))
        #expect(splitPath(bytes("/a")) == (bytes("/"), bytes("a")))
        #expect(splitPath(bytes("a")) == (bytes("."), bytes("a")))
    }
}
