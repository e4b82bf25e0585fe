import Foundation
import Synchronization

/// The kinds of objects a repository stores, and the directory each lives under (DESIGN.md §4).
public enum ObjectKind: String, Sendable, CaseIterable {
    case config
    case key = "keys"
    case data
    case index
    case snapshot = "snapshots"
    case lock = "locks"
}

/// The name of one stored object: `config`, `keys/<id>`, `data/<2 hex>/<pack id>`, ...
public struct ObjectName: Hashable, Sendable, CustomStringConvertible {
    public let kind: ObjectKind
    public let name: String

    public init(_ kind: ObjectKind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    public static let config = ObjectName(.config, "config")

    /// The path relative to the repository root.
    public var path: String {
        switch kind {
        case .config: return "config"
        case .data: return "data/\(name.prefix(2))/\(name)"
        default: return "\(kind.rawValue)/\(name)"
        }
    }

    public var description: String { path }
}

public struct BackendError: Error, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case notFound
        case alreadyExists
        case io
        case noSpace
    }

    public let code: Code
    public let object: String
    public let message: String

    public init(_ code: Code, object: String, message: String) {
        self.code = code
        self.object = object
        self.message = message
    }

    public var description: String { "\(object): \(message)" }
}

/// Storage of named immutable objects. Implementations: `LocalBackend` (a directory),
/// `MemoryBackend` (tests), and the S3 backend of a later module.
public protocol Backend: Sendable {
    /// Where the repository is, for messages (a path or URL).
    var location: String { get }

    /// Stores an object atomically and durably: after return it survives a crash; a reader
    /// never sees a partial object.
    func save(_ name: ObjectName, bytes: [UInt8]) throws

    /// Loads `length` bytes at `offset` (the rest when `length` is nil).
    func load(_ name: ObjectName, offset: Int, length: Int?) throws -> [UInt8]

    /// The size of a stored object; throws `.notFound` when absent.
    func size(_ name: ObjectName) throws -> Int

    /// Every object of a kind, with its size.
    func list(_ kind: ObjectKind) throws -> [(name: String, size: Int)]

    func remove(_ name: ObjectName) throws

    /// Where packs are assembled before `store(_:spooledFile:)`; nil means the caller's
    /// choice (the cache directory). A local backend spools inside the repository, so storing a
    /// finished pack is a rename.
    var spoolDirectory: String? { get }

    /// Stores a finished file under `name` and removes it from the spool.
    func store(_ name: ObjectName, spooledFile path: String) throws
}

extension Backend {
    public var spoolDirectory: String? { nil }

    public func store(_ name: ObjectName, spooledFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BackendError(.io, object: name.path, message: "cannot read the spooled pack \(path)")
        }
        try save(name, bytes: [UInt8](data))
        try? FileManager.default.removeItem(atPath: path)
    }

    public func load(_ name: ObjectName) throws -> [UInt8] { try load(name, offset: 0, length: nil) }

    public func exists(_ name: ObjectName) -> Bool { (try? size(name)) != nil }
}

/// A backend in memory, for tests of pure logic.
public final class MemoryBackend: Backend {
    private let objects = Mutex<[ObjectName: [UInt8]]>([:])

    public init() {}

    public var location: String { "memory:" }

    public func save(_ name: ObjectName, bytes: [UInt8]) throws {
        objects.withLock { $0[name] = bytes }
    }

    public func load(_ name: ObjectName, offset: Int, length: Int?) throws -> [UInt8] {
        guard let bytes = objects.withLock({ $0[name] }) else {
            throw BackendError(.notFound, object: name.path, message: "no such object")
        }
        return try slice(bytes, name: name, offset: offset, length: length)
    }

    public func size(_ name: ObjectName) throws -> Int {
        guard let bytes = objects.withLock({ $0[name] }) else {
            throw BackendError(.notFound, object: name.path, message: "no such object")
        }
        return bytes.count
    }

    public func list(_ kind: ObjectKind) throws -> [(name: String, size: Int)] {
        objects.withLock { objects in
            objects.filter { $0.key.kind == kind }.map { ($0.key.name, $0.value.count) }
                .sorted { $0.0 < $1.0 }
        }
    }

    public func remove(_ name: ObjectName) throws {
        let removed = objects.withLock { $0.removeValue(forKey: name) }
        if removed == nil { throw BackendError(.notFound, object: name.path, message: "no such object") }
    }

    /// Test hook: replace the stored bytes of an object (to simulate damage).
    public func corrupt(_ name: ObjectName, _ change: (inout [UInt8]) -> Void) {
        objects.withLock { objects in
            if var bytes = objects[name] {
                change(&bytes)
                objects[name] = bytes
            }
        }
    }
}

func slice(_ bytes: [UInt8], name: ObjectName, offset: Int, length: Int?) throws -> [UInt8] {
    let end = length.map { offset + $0 } ?? bytes.count
    guard offset >= 0, offset <= end, end <= bytes.count else {
        throw BackendError(
            .io, object: name.path,
            message: "range \(offset)..<\(end) is beyond the object's \(bytes.count) bytes (truncated?)")
    }
    return Array(bytes[offset..<end])
}
