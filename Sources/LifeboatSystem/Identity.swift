import Glibc
import Synchronization

/// Resolves user and group IDs to names and back (getpwuid_r & co.), caching every answer
/// (including "no such user") because a backup asks the same few questions millions of times.
public final class IdentityCache: Sendable {
    private struct State {
        var users: [UInt32: String?] = [:]
        var groups: [UInt32: String?] = [:]
        var userIDs: [String: UInt32?] = [:]
        var groupIDs: [String: UInt32?] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    public static let shared = IdentityCache()

    public func userName(_ uid: UInt32) -> String? {
        if let cached = state.withLock({ $0.users[uid] }) { return cached }
        let name = Self.lookupUser(uid)
        state.withLock { $0.users[uid] = .some(name) }
        return name
    }

    public func groupName(_ gid: UInt32) -> String? {
        if let cached = state.withLock({ $0.groups[gid] }) { return cached }
        let name = Self.lookupGroup(gid)
        state.withLock { $0.groups[gid] = .some(name) }
        return name
    }

    public func userID(named name: String) -> UInt32? {
        if let cached = state.withLock({ $0.userIDs[name] }) { return cached }
        let id = Self.lookupUserID(name)
        state.withLock { $0.userIDs[name] = .some(id) }
        return id
    }

    public func groupID(named name: String) -> UInt32? {
        if let cached = state.withLock({ $0.groupIDs[name] }) { return cached }
        let id = Self.lookupGroupID(name)
        state.withLock { $0.groupIDs[name] = .some(id) }
        return id
    }

    private static func withBuffer<R>(_ body: (UnsafeMutablePointer<CChar>, Int) -> (Int32, R?)) -> R? {
        var size = 1024
        while size <= 1 << 20 {
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
            defer { buffer.deallocate() }
            let (code, result) = body(buffer, size)
            if code == ERANGE { size *= 4; continue }
            if code == EINTR { continue }
            return result
        }
        return nil
    }

    private static func lookupUser(_ uid: UInt32) -> String? {
        withBuffer { buffer, size in
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            let code = getpwuid_r(uid, &entry, buffer, size, &result)
            guard code == 0, result != nil, let name = entry.pw_name else { return (code, nil) }
            return (0, String(cString: name))
        }
    }

    private static func lookupGroup(_ gid: UInt32) -> String? {
        withBuffer { buffer, size in
            var entry = group()
            var result: UnsafeMutablePointer<group>?
            let code = getgrgid_r(gid, &entry, buffer, size, &result)
            guard code == 0, result != nil, let name = entry.gr_name else { return (code, nil) }
            return (0, String(cString: name))
        }
    }

    private static func lookupUserID(_ name: String) -> UInt32? {
        withBuffer { buffer, size in
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            let code = getpwnam_r(name, &entry, buffer, size, &result)
            guard code == 0, result != nil else { return (code, nil) }
            return (0, entry.pw_uid)
        }
    }

    private static func lookupGroupID(_ name: String) -> UInt32? {
        withBuffer { buffer, size in
            var entry = group()
            var result: UnsafeMutablePointer<group>?
            let code = getgrnam_r(name, &entry, buffer, size, &result)
            guard code == 0, result != nil else { return (code, nil) }
            return (0, entry.gr_gid)
        }
    }
}
