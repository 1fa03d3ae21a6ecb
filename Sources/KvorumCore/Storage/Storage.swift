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

/// The durable state of one node, injected into the core. The simulator uses
/// `MemoryStorage`, which survives a simulated crash; the server uses a disk
/// store. Every method is called from the node's single thread of control.
public protocol Storage: AnyObject {
    func record(for key: Key) -> StoredRecord?
    func setRecord(_ record: StoredRecord, for key: Key)
    func removeRecord(for key: Key)
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
}

/// Storage in memory: the store of the simulator and of tests.
public final class MemoryStorage: Storage {
    /// Everything a `MemoryStorage` holds, as a value: equal contents behave
    /// the same (the model checker compares them).
    public struct Contents: Hashable, Sendable {
        fileprivate var records: [Key: StoredRecord] = [:]
        fileprivate var hints: [String: [Key: Hint]] = [:]
        fileprivate var members: [MemberEntry] = []
        fileprivate var pendingJoin: Address?
        fileprivate var epoch: UInt64 = 0
    }

    public private(set) var contents = Contents()

    public init() {}

    /// An independent copy (the model checker branches on copies).
    public func copy() -> MemoryStorage {
        let twin = MemoryStorage()
        twin.contents = contents
        return twin
    }

    public func record(for key: Key) -> StoredRecord? { contents.records[key] }
    public func setRecord(_ record: StoredRecord, for key: Key) { contents.records[key] = record }
    public func removeRecord(for key: Key) { contents.records[key] = nil }
    public func keys() -> [Key] { contents.records.keys.sorted() }

    /// Sorts the matching keys for every call (the simulator's stores are small).
    public func scanRecords(
        prefix: Key, after: Key?, where include: (Key) -> Bool, _ visit: (Key, StoredRecord) -> Bool
    ) {
        let query = KeyQuery(prefix: prefix, after: after)
        for key in contents.records.keys.filter({ query.admits($0) && include($0) }).sorted() {
            guard visit(key, contents.records[key]!) else { return }
        }
    }
    public var recordCount: Int { contents.records.count }

    public func hints() -> [Hint] {
        contents.hints.keys.sorted(by: byteOrder).flatMap { target in
            let byKey = contents.hints[target]!
            return byKey.keys.sorted().map { byKey[$0]! }
        }
    }

    public func setHint(_ hint: Hint) { contents.hints[hint.target, default: [:]][hint.key] = hint }

    public func removeHint(target: String, key: Key) {
        contents.hints[target]?[key] = nil
        if contents.hints[target]?.isEmpty == true { contents.hints[target] = nil }
    }

    public func membership() -> [MemberEntry] { contents.members }
    public func setMembership(_ entries: [MemberEntry]) { contents.members = entries }

    public func joinContact() -> Address? { contents.pendingJoin }
    public func setJoinContact(_ contact: Address?) { contents.pendingJoin = contact }

    public func nextEpoch() -> UInt64 {
        contents.epoch += 1
        return contents.epoch
    }
}
