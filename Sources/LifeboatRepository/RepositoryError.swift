/// Errors a user of the repository can meet. Each says what was wrong, where, and what to do.
public struct RepositoryError: Error, CustomStringConvertible, Equatable {
    public enum Code: Sendable, Equatable {
        /// No repository at the location (CLI exit 10).
        case repositoryMissing
        /// `init` over an existing repository.
        case alreadyExists
        /// No key file opens with the passphrase (CLI exit 12).
        case wrongPassphrase
        case unsupportedVersion
        case damagedKey
        case damagedConfig
        /// A stored object fails authentication or does not decode.
        case damaged
        /// A blob the metadata refers to is not in the index.
        case missing
        case snapshotNotFound
        case ambiguousSnapshot
        case locked
        case io
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    public static func == (lhs: RepositoryError, rhs: RepositoryError) -> Bool { lhs.code == rhs.code }
}
