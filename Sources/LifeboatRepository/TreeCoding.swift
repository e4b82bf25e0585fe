/// Encoding of trees (format v1), pinned by golden-file tests.
///
/// `tree := "LBT1" varint(count) node*`, nodes sorted by name bytes;
/// `node := varint(length) fields`: the length prefix lets a later version append fields that
/// an older reader skips. Fields, in order: name, kind, mode, uid, gid, user?, group?, mtime,
/// atime, ctime, size, device, inode, linkCount, rdev, linkTarget, xattrs, flags, content,
/// extents?, subtree?. See `RepositoryFormat.md`.
enum TreeCoding {
    static let magic: [UInt8] = Array("LBT1".utf8)

    static func encode(_ tree: Tree) -> [UInt8] {
        var out = BinaryWriter()
        out.append(raw: magic)
        out.append(varint: UInt64(tree.nodes.count))
        for node in tree.nodes {
            let fields = encodeFields(node)
            out.append(bytes: fields)
        }
        return out.bytes
    }

    private static func encodeFields(_ node: Node) -> [UInt8] {
        var w = BinaryWriter()
        w.append(bytes: node.name)
        w.append(node.kind.rawValue)
        w.append(varint: node.mode)
        w.append(varint: node.uid)
        w.append(varint: node.gid)
        appendOptional(&w, node.user)
        appendOptional(&w, node.group)
        for time in [node.mtime, node.atime, node.ctime] {
            w.append(signed: time.seconds)
            w.append(varint: time.nanoseconds)
        }
        w.append(varint: node.size)
        w.append(varint: node.device)
        w.append(varint: node.inode)
        w.append(varint: node.linkCount)
        w.append(varint: node.rdev)
        w.append(bytes: node.linkTarget)
        // Kept in the order captured (the file system's listing order), which is deterministic
        // for a given file and which restore reproduces.
        w.append(varint: UInt64(node.xattrs.count))
        for xattr in node.xattrs {
            w.append(bytes: xattr.name)
            w.append(bytes: xattr.value)
        }
        w.append(varint: node.flags)
        w.append(varint: UInt64(node.content.count))
        for id in node.content { w.append(raw: id.bytes) }
        if let extents = node.extents {
            w.append(varint: UInt64(extents.count) + 1)
            for extent in extents {
                w.append(varint: extent.offset)
                w.append(varint: extent.length)
            }
        } else {
            w.append(varint: 0)
        }
        if let subtree = node.subtree {
            w.append(1)
            w.append(raw: subtree.bytes)
        } else {
            w.append(0)
        }
        return w.bytes
    }

    private static func appendOptional(_ w: inout BinaryWriter, _ text: String?) {
        guard let text else { return w.append(varint: 0) }
        let utf8 = Array(text.utf8)
        w.append(varint: UInt64(utf8.count) + 1)
        w.append(raw: utf8)
    }

    static func decode(_ bytes: [UInt8], context: String) throws -> Tree {
        var r = BinaryReader(bytes, context: context)
        guard try r.raw(4) == magic else { throw FormatError("\(context): not a tree (bad magic)") }
        let count = try r.varint()
        guard count <= UInt64(r.remaining) else { throw FormatError("\(context): node count \(count) exceeds data") }
        var nodes: [Node] = []
        nodes.reserveCapacity(Int(count))
        for _ in 0..<count {
            let fields = try r.bytesField()
            nodes.append(try decodeFields(fields, context: context))
        }
        guard r.isAtEnd else { throw FormatError("\(context): trailing bytes after tree") }
        for i in nodes.indices.dropFirst() where !nodes[i - 1].name.lexicographicallyPrecedes(nodes[i].name) {
            throw FormatError("\(context): entries not sorted or duplicated")
        }
        var tree = Tree(nodes: [])
        tree.nodes = nodes
        return tree
    }

    private static func decodeFields(_ bytes: [UInt8], context: String) throws -> Node {
        var r = BinaryReader(bytes, context: context)
        let name = try r.bytesField(limit: 4096)
        guard let kind = Node.Kind(rawValue: try r.byte()) else { throw FormatError("\(context): unknown node kind") }
        var node = Node(name: name, kind: kind)
        node.mode = try r.varint(as: UInt32.self)
        node.uid = try r.varint(as: UInt32.self)
        node.gid = try r.varint(as: UInt32.self)
        node.user = try readOptional(&r)
        node.group = try readOptional(&r)
        var times: [Timestamp] = []
        for _ in 0..<3 {
            let seconds = try r.signed()
            let nanoseconds = try r.varint(as: UInt32.self)
            guard nanoseconds < 1_000_000_000 else { throw FormatError("\(context): bad nanoseconds") }
            times.append(Timestamp(seconds: seconds, nanoseconds: nanoseconds))
        }
        node.mtime = times[0]
        node.atime = times[1]
        node.ctime = times[2]
        node.size = try r.varint()
        node.device = try r.varint()
        node.inode = try r.varint()
        node.linkCount = try r.varint(as: UInt32.self)
        node.rdev = try r.varint()
        node.linkTarget = try r.bytesField(limit: 1 << 20)
        let xattrCount = try r.varint()
        guard xattrCount <= UInt64(r.remaining) else { throw FormatError("\(context): bad xattr count") }
        for _ in 0..<xattrCount {
            let name = try r.bytesField(limit: 4096)
            let value = try r.bytesField(limit: 1 << 24)
            node.xattrs.append(ExtendedAttribute(name: name, value: value))
        }
        node.flags = try r.varint(as: UInt32.self)
        let contentCount = try r.varint()
        guard contentCount <= UInt64(r.remaining / 32) else { throw FormatError("\(context): bad content count") }
        node.content.reserveCapacity(Int(contentCount))
        for _ in 0..<contentCount { node.content.append(try r.objectID()) }
        let extentTag = try r.varint()
        if extentTag > 0 {
            guard extentTag - 1 <= UInt64(r.remaining / 2) else { throw FormatError("\(context): bad extent count") }
            var extents: [Extent] = []
            for _ in 0..<(extentTag - 1) {
                extents.append(Extent(offset: try r.varint(), length: try r.varint()))
            }
            node.extents = extents
        }
        if try r.byte() == 1 { node.subtree = try r.objectID() }
        // Bytes after the known fields belong to a later format version: skipped.
        return node
    }

    private static func readOptional(_ r: inout BinaryReader) throws -> String? {
        let tag = try r.varint()
        guard tag > 0 else { return nil }
        guard tag - 1 <= UInt64(r.remaining) else { throw FormatError("\(r.context): bad string length") }
        return String(decoding: try r.raw(Int(tag - 1)), as: UTF8.self)
    }
}
