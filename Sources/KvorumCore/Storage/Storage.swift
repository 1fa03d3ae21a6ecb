/// What a node keeps for one key.
public struct StoredRecord: Hashable, Sendable, Codable {
    /// The versions no other known version descends.
    public var siblings: SiblingSet
    /// The actor this node uses for its own writes to this key, if it has
    /// coordinated one since it last obtained the record. Local only: never
    /// sent to peers. See `KvorumNode` on actor epochs.
    public var ownActor: String?

    public init(siblings: SiblingSet, ownActor: String? = nil) {
        self.siblings = siblings
        self.ownActor = ownActor
    }
}

/// A pending hinted handoff (Dynamo §4.6): this node holds `key` on behalf of
/// `target` and must deliver it there. `sequence` grows whenever the hint is
/// renewed, so an acknowledgement of an older delivery does not clear it.
public struct Hint: Hashable, Sendable, Codable {
    public var target: String
    public var key: Key
    public var sequence: UInt64

    public init(target: String, key: Key, sequence: UInt64) {
        self.target = target
        self.key = key
        self.sequence = sequence
    }
}

extension Storage {
    /// `setRecord(_:encoded:for:at:)`, encoding the siblings here.
    @discardableResult
    public func setRecord(_ record: StoredRecord, for key: Key, at place: TreePlace) -> UInt64? {
        setRecord(record, encoded: WireCodec.encode(record.siblings), for: key, at: place)
    }
}

/// The durable state of one node, injected into the core. The simulator uses
/// `MemoryStorage`, which survives a simulated crash; the server uses a disk
/// store. Every method is called from the node's single thread of control.
public protocol Storage: AnyObject {
    func record(for key: Key) -> StoredRecord?
    /// Stores `record` under `key` at `place` in the anti-entropy tree, and
    /// returns the digest it replaces (nil when the key was not stored). The
    /// summary of the place's partition changes with it, also as seen after
    /// a crash.
    /// `encoded` is `WireCodec.encode(record.siblings)`, made once for the
    /// place's digest and for a store that keeps records encoded.
    @discardableResult
    func setRecord(_ record: StoredRecord, encoded: [UInt8], for key: Key, at place: TreePlace) -> UInt64?
    /// Removes the record of `key` and returns the place it had (nil when
    /// the key was not stored); its partition's summary changes with it.
    @discardableResult
    func removeRecord(for key: Key) -> TreePlace?
    /// Every stored key, in byte-wise order.
    func keys() -> [Key]
    /// Visits the stored records whose keys start with `prefix`, come after
    /// `after` (from the first such key when nil) and pass `include`, in
    /// byte-wise order of key, until `visit` returns false or none is left.
    /// A store that keeps its keys ordered starts at the first such key and
    /// stops after the last, and reads (decodes) only the records `include`
    /// lets through, so a page of a key listing costs about the keys it
    /// looks at. Neither closure may call the storage.
    func scanRecords(
        prefix: Key, after: Key?, where include: (Key) -> Bool, _ visit: (Key, StoredRecord) -> Bool)
    var recordCount: Int { get }

    /// The digest `setRecord` stored for `key`, nil when it is not stored.
    func digest(of key: Key) -> UInt64?
    /// The stored keys of one partition with their digests, in byte-wise key
    /// order, read without decoding a record.
    func digests(inPartition partition: Int) -> [KeyDigest]
    /// The summary of every partition holding a key, by partition: what a
    /// node needs to restore its hash tree, whatever the number of records.
    func partitionSummaries() -> [PartitionSummary]
    /// The keys whose record holds tombstones only, in byte-wise order
    /// (`SiblingSet.isDeleted`), found without reading the other records.
    func deletedKeys() -> [Key]

    func hints() -> [Hint]
    func setHint(_ hint: Hint)
    func removeHint(target: String, key: Key)

    func membership() -> [MemberEntry]
    func setMembership(_ entries: [MemberEntry])

    /// The contact of a JOIN not yet answered, so a node that restarts
    /// mid-join keeps asking instead of coming back as a cluster of one.
    func joinContact() -> Address?
    func setJoinContact(_ contact: Address?)

    /// Returns a number never returned before by this storage.
    func nextEpoch() -> UInt64

    /// Runs `body`, whose reads check the node rather than do its work (the
    /// invariants of debug builds): a store that counts its work leaves
    /// them out, so a count is the same in every build.
    func uncounted<Result>(_ body: () -> Result) -> Result
}

extension Storage {
    public func uncounted<Result>(_ body: () -> Result) -> Result { body() }
}

/// The rows a `MemoryStorage` has read and written: the simulator's measure
/// of the work an event does on the node's store (`WorkModel`). A row is
/// what a disk store would look up or write for one record, digest, hint or
/// membership table; a listing reads as many rows as it returns.
public struct StorageWork: Sendable, Equatable {
    public fileprivate(set) var rowsRead = 0
    public fileprivate(set) var rowsWritten = 0

    public init() {}

    /// The work done between two counts of the same storage.
    public static func - (later: StorageWork, earlier: StorageWork) -> StorageWork {
        var work = StorageWork()
        work.rowsRead = later.rowsRead - earlier.rowsRead
        work.rowsWritten = later.rowsWritten - earlier.rowsWritten
        return work
    }
}

/// Storage in memory: the store of the simulator and of tests.
public final class MemoryStorage: Storage {
    /// Everything a `MemoryStorage` holds, as a value: equal contents behave
    /// the same (the model checker compares them).
    public struct Contents: Hashable, Sendable {
        /// Each stored key's record and its place in the hash tree, in one
        /// table so that a write or a lookup hashes the key once.
        fileprivate var rows: [Key: Row] = [:]
        /// The stored keys of each partition holding any, so that listing a
        /// partition looks at its own keys only, as a disk store's index does.
        fileprivate var partitionKeys: [Int: Set<Key>] = [:]
        fileprivate var summaries: [Int: PartitionSummary] = [:]
        fileprivate var hints: [String: [Key: Hint]] = [:]
        fileprivate var members: [MemberEntry] = []
        fileprivate var pendingJoin: Address?
        fileprivate var epoch: UInt64 = 0
    }

    /// One stored key.
    fileprivate struct Row: Hashable, Sendable {
        var record: StoredRecord
        var place: TreePlace
    }

    /// Read or written by every store and lookup, so it skips the runtime's
    /// exclusivity check: a storage is used from its node's single thread
    /// of control (`Storage`), and no method hands it out while changing it.
    @exclusivity(unchecked) public private(set) var contents = Contents()
    /// The rows read and written so far (not part of `contents`: two stores
    /// with equal contents are equal however they got there).
    @exclusivity(unchecked) public private(set) var work = StorageWork()
    @exclusivity(unchecked) private var counting = true

    public init() {}

    /// An independent copy (the model checker branches on copies).
    public func copy() -> MemoryStorage {
        let twin = MemoryStorage()
        twin.contents = contents
        return twin
    }

    public func record(for key: Key) -> StoredRecord? {
        read(1)
        return contents.rows[key]?.record
    }

    @discardableResult
    public func setRecord(_ record: StoredRecord, encoded: [UInt8], for key: Key, at place: TreePlace) -> UInt64? {
        wrote(1)
        let old = contents.rows.updateValue(Row(record: record, place: place), forKey: key)?.place
        precondition(old.map { $0.partition == place.partition } ?? true, "key '\(key)' changed partition")
        if old == nil { contents.partitionKeys[place.partition, default: []].insert(key) }
        contents.summaries[place.partition, default: PartitionSummary(partition: place.partition)]
            .replace(old?.digest, with: place.digest)
        return old?.digest
    }

    @discardableResult
    public func removeRecord(for key: Key) -> TreePlace? {
        wrote(1)
        guard let old = contents.rows.removeValue(forKey: key)?.place else { return nil }
        contents.partitionKeys[old.partition]!.remove(key)
        if contents.partitionKeys[old.partition]!.isEmpty { contents.partitionKeys[old.partition] = nil }
        contents.summaries[old.partition]!.replace(old.digest, with: nil)
        if contents.summaries[old.partition]!.isEmpty { contents.summaries[old.partition] = nil }
        return old
    }

    public func keys() -> [Key] {
        read(contents.rows.count)
        return contents.rows.keys.sorted()
    }

    /// Sorts the matching keys for every call (the simulator's stores are small).
    public func scanRecords(
        prefix: Key, after: Key?, where include: (Key) -> Bool, _ visit: (Key, StoredRecord) -> Bool
    ) {
        let query = KeyQuery(prefix: prefix, after: after)
        for key in contents.rows.keys.filter({ query.admits($0) && include($0) }).sorted() {
            read(1)
            guard visit(key, contents.rows[key]!.record) else { return }
        }
    }
    public var recordCount: Int { contents.rows.count }

    public func digest(of key: Key) -> UInt64? {
        read(1)
        return contents.rows[key]?.place.digest
    }

    /// Finding the partition counts as one row read even when it is empty.
    public func digests(inPartition partition: Int) -> [KeyDigest] {
        let keys = contents.partitionKeys[partition, default: []].sorted()
        let digests = keys.map { KeyDigest(key: $0, digest: contents.rows[$0]!.place.digest) }
        read(max(1, digests.count))
        return digests
    }

    public func partitionSummaries() -> [PartitionSummary] {
        read(contents.summaries.count)
        return contents.summaries.keys.sorted().map { contents.summaries[$0]! }
    }

    public func deletedKeys() -> [Key] {
        let deleted = contents.rows.filter { $0.value.record.siblings.isDeleted }.keys.sorted()
        read(deleted.count)
        return deleted
    }

    public func hints() -> [Hint] {
        let hints = contents.hints.keys.sorted(by: byteOrder).flatMap { target in
            let byKey = contents.hints[target]!
            return byKey.keys.sorted().map { byKey[$0]! }
        }
        read(hints.count)
        return hints
    }

    public func setHint(_ hint: Hint) {
        wrote(1)
        contents.hints[hint.target, default: [:]][hint.key] = hint
    }

    public func removeHint(target: String, key: Key) {
        wrote(1)
        contents.hints[target]?[key] = nil
        if contents.hints[target]?.isEmpty == true { contents.hints[target] = nil }
    }

    public func membership() -> [MemberEntry] {
        read(1)
        return contents.members
    }

    public func setMembership(_ entries: [MemberEntry]) {
        wrote(1)
        contents.members = entries
    }

    public func joinContact() -> Address? {
        read(1)
        return contents.pendingJoin
    }

    public func setJoinContact(_ contact: Address?) {
        wrote(1)
        contents.pendingJoin = contact
    }

    public func nextEpoch() -> UInt64 {
        wrote(1)
        contents.epoch += 1
        return contents.epoch
    }

    public func uncounted<Result>(_ body: () -> Result) -> Result {
        let outer = counting
        counting = false
        defer { counting = outer }
        return body()
    }

    private func read(_ rows: Int) {
        if counting { work.rowsRead += rows }
    }

    private func wrote(_ rows: Int) {
        if counting { work.rowsWritten += rows }
    }
}
