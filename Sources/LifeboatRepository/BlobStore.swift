/// What the file archiver and restorer need from a repository: the narrow protocol of
/// DESIGN.md §3, so they can be tested against an in-memory repository.
///
/// All methods are safe to call from several threads at once; CPU work (hashing, compression,
/// encryption) runs on the caller's thread so that callers give the parallelism.
public protocol BlobStore: Sendable {
    /// The keyed chunk ID of a plaintext (HMAC-SHA256 under the repository's ID key).
    func blobID(of plaintext: UnsafeRawBufferPointer) -> BlobID

    /// True if a blob with this ID is already stored (or queued in a pack being written).
    func contains(_ id: BlobID, type: BlobType) -> Bool

    /// Stores a blob whose ID the caller computed with `blobID(of:)`. Deduplicates: a blob
    /// already stored is not stored again. Returns the bytes added to the repository
    /// (0 when deduplicated).
    @discardableResult
    func save(_ type: BlobType, id: BlobID, plaintext: UnsafeRawBufferPointer) throws -> Int

    /// Loads, authenticates and decompresses a blob. Throws if it is missing or damaged: never
    /// returns bytes that failed authentication.
    func load(_ type: BlobType, id: BlobID) throws -> [UInt8]

    /// Encodes and stores a tree; returns its blob ID.
    func saveTree(_ tree: Tree) throws -> BlobID

    /// Loads and decodes a tree.
    func loadTree(_ id: BlobID) throws -> Tree

    /// A content-defined chunker keyed for this repository.
    func makeChunker() -> Chunker
}
