import Foundation
import Glibc
import LifeboatRepository
import LifeboatSystem
import Synchronization
import Testing

@testable import LifeboatFiles

/// An in-memory repository for tests: plain (non-cryptographic) hashing, trees kept decoded
/// but identified by a deterministic encoding, optional damage to simulate failed
/// authentication.
final class MemoryStore: BlobStore {
    let blobs = Mutex<[BlobID: [UInt8]]>([:])
    let trees = Mutex<[BlobID: Tree]>([:])
    let damaged = Mutex<Set<BlobID>>([])
    let dataLoads = Mutex(0)
    let parameters: Chunker.Parameters
    let gear: [UInt64]

    init(parameters: Chunker.Parameters = Chunker.Parameters(minimum: 4096, average: 16384, maximum: 65536)) {
        self.parameters = parameters
        var state: UInt64 = 0x1234_5678_9abc_def0
        var table = [UInt64]()
        for _ in 0..<256 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            table.append(z ^ (z >> 31))
        }
        gear = table
    }

    static func hash(_ bytes: UnsafeRawBufferPointer) -> BlobID {
        var lanes: [UInt64] = [0xcbf2_9ce4_8422_2325, 0x8422_2325_cbf2_9ce4, 0x1000_0000_01b3, 0xdead_beef_cafe_f00d]
        for (index, byte) in bytes.enumerated() {
            let lane = index & 3
            lanes[lane] = (lanes[lane] ^ UInt64(byte)) &* 0x100_0000_01b3
            lanes[(lane + 1) & 3] = lanes[(lane + 1) & 3] &+ (lanes[lane] >> 17)
        }
        var out = [UInt8]()
        for var lane in lanes {
            lane ^= UInt64(bytes.count) &* 0x9e37_79b9_7f4a_7c15
            for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: lane >> UInt64(shift))) }
        }
        return BlobID(bytes: out)!
    }

    func blobID(of plaintext: UnsafeRawBufferPointer) -> BlobID { Self.hash(plaintext) }

    func contains(_ id: BlobID, type: BlobType) -> Bool {
        type == .data ? blobs.withLock { $0[id] != nil } : trees.withLock { $0[id] != nil }
    }

    func save(_ type: BlobType, id: BlobID, plaintext: UnsafeRawBufferPointer) throws -> Int {
        blobs.withLock { blobs in
            if blobs[id] != nil { return 0 }
            blobs[id] = [UInt8](plaintext)
            return plaintext.count
        }
    }

    struct Damaged: Error, CustomStringConvertible {
        let id: BlobID
        var description: String { "blob \(id.shortHex) failed authentication" }
    }

    func load(_ type: BlobType, id: BlobID) throws -> [UInt8] {
        dataLoads.withLock { $0 += 1 }
        if damaged.withLock({ $0.contains(id) }) { throw Damaged(id: id) }
        guard let data = blobs.withLock({ $0[id] }) else { throw Damaged(id: id) }
        return data
    }

    func saveTree(_ tree: Tree) throws -> BlobID {
        let encoded = Self.encode(tree)
        let id = encoded.withUnsafeBytes { Self.hash($0) }
        trees.withLock { $0[id] = tree }
        return id
    }

    func loadTree(_ id: BlobID) throws -> Tree {
        guard let tree = trees.withLock({ $0[id] }) else { throw Damaged(id: id) }
        return tree
    }

    func makeChunker() -> Chunker { Chunker(gear: gear, parameters: parameters) }

    static func encode(_ tree: Tree) -> [UInt8] {
        var out = [UInt8]()
        func u64(_ v: UInt64) { for s in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
        func bytes(_ b: [UInt8]) { u64(UInt64(b.count)); out += b }
        for node in tree.nodes {
            bytes(node.name); u64(UInt64(node.kind.rawValue)); u64(UInt64(node.mode)); u64(UInt64(node.uid))
            u64(UInt64(node.gid)); bytes(Array((node.user ?? "").utf8)); bytes(Array((node.group ?? "").utf8))
            for t in [node.mtime, node.atime, node.ctime] { u64(UInt64(bitPattern: t.seconds)); u64(UInt64(t.nanoseconds)) }
            u64(node.size); u64(node.device); u64(node.inode); u64(UInt64(node.linkCount)); u64(node.rdev)
            bytes(node.linkTarget); u64(UInt64(node.xattrs.count))
            for x in node.xattrs { bytes(x.name); bytes(x.value) }
            u64(UInt64(node.flags)); u64(UInt64(node.content.count))
            for c in node.content { out += c.bytes }
            if let extents = node.extents { u64(UInt64(extents.count)); for e in extents { u64(e.offset); u64(e.length) } } else { u64(UInt64.max) }
            out += node.subtree?.bytes ?? [UInt8](repeating: 0, count: 32)
        }
        return out
    }

    /// The node at an absolute path in a snapshot.
    func node(at path: String, root: BlobID) throws -> Node? {
        var tree = try loadTree(root)
        var node: Node?
        for part in path.split(separator: "/") {
            guard let found = tree.node(named: Array(part.utf8)) else { return nil }
            node = found
            if let subtree = found.subtree { tree = try loadTree(subtree) }
        }
        return node
    }

    func node(atBytes path: [UInt8], root: BlobID) throws -> Node? {
        var tree = try loadTree(root)
        var node: Node?
        for part in path.split(separator: UInt8(ascii: "/")) {
            guard let found = tree.node(named: Array(part)) else { return nil }
            node = found
            if let subtree = found.subtree { tree = try loadTree(subtree) }
        }
        return node
    }
}

@discardableResult
func sh(_ command: String) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", command]
    do { try process.run() } catch { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}

func output(_ command: String) -> String {
    let process = Process()
    let pipe = Pipe()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", command]
    process.standardOutput = pipe
    do { try process.run() } catch { return "" }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

let treefpFunction = #"""
treefp() {
  tar --xattrs --xattrs-include='*' --acls --sort=name --numeric-owner --format=posix \
      --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
      -C "$1" -cf - . | sha256sum
}
holemap() {
  python3 - "$1" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY); end = os.fstat(fd).st_size; off = 0
while off < end:
    try: d = os.lseek(fd, off, os.SEEK_DATA)
    except OSError: break
    h = os.lseek(fd, d, os.SEEK_HOLE); print(d, h); off = h
PY
}
"""#

func treefp(_ dir: String) -> String {
    let result = output(treefpFunction + "\nset -o pipefail; treefp '\(dir)' || echo FAILED-$RANDOM")
    #expect(result.count == 68, "treefp of \(dir) failed: \(result)")
    return result
}

func holemap(_ file: String) -> String {
    let result = output(treefpFunction + "\nholemap '\(file)' || echo FAILED-$RANDOM")
    #expect(!result.contains("FAILED"), "holemap of \(file) failed")
    return result
}

/// A scratch area with SRC and DST below it, removed afterwards (flags cleared first).
struct Scratch {
    let base: String
    var src: String { base + "/src" }
    var dst: String { base + "/dst" }
    /// Where SRC lands inside a restore into DST.
    var restoredSrc: String { dst + src }

    static func with<R>(_ body: (Scratch) throws -> R) throws -> R {
        var template = Array("/tmp/lbfiles-XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
            return String(cString: base)
        }
        guard let path else { throw SystemError("mkdtemp", errno: .current) }
        defer { sh("chattr -R -ia '\(path)' 2>/dev/null; rm -rf '\(path)'") }
        let scratch = Scratch(base: path)
        #expect(sh("mkdir -p '\(scratch.src)' '\(scratch.dst)'") == 0)
        return try body(scratch)
    }

    /// Runs a bash recipe with SRC and DST set.
    func run(_ script: String) -> Int32 {
        sh("set -e; export SRC='\(src)' DST='\(dst)'; \(script)")
    }
}

func backup(_ store: MemoryStore, _ paths: [String], configure: (inout BackupOptions) -> Void = { _ in }) throws
    -> BackupSummary
{
    var options = BackupOptions(paths: paths)
    configure(&options)
    return try Archiver(store: store).backup(options)
}

func restore(_ store: MemoryStore, _ root: BlobID, to target: String, configure: (inout RestoreOptions) -> Void = { _ in })
    throws -> RestoreSummary
{
    var options = RestoreOptions(target: target)
    configure(&options)
    return try Restorer(store: store).restore(root: root, options: options)
}
