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
    public var key: String
    public var sequence: UInt64

    public init(target: String, key: String, sequence: UInt64) {
        self.target = target
        self.key = key
        self.sequence = sequence
    }
}

/// The durable state of one node, injected into the core. The simulator uses
/// `MemoryStorage`, which survives a simulated crash; the server uses a disk
/// store. Every method is called from the node's single thread of control.
public protocol Storage: AnyObject {
    func record(for key: String) -> StoredRecord?
    func setRecord(_ record: StoredRecord, for key: String)
    func removeRecord(for key: String)
    /// Every stored key, in byte-wise order.
    func keys() -> [String]
    var recordCount: Int { get }

    func hints() -> [Hint]
    func setHint(_ hint: Hint)
    func removeHint(target: String, key: String)

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
    private var records: [String: StoredRecord] = [:]
    private var hintTable: [String: [String: Hint]] = [:]
    private var members: [MemberEntry] = []
    private var pendingJoin: Address?
    private var epoch: UInt64 = 0

    public init() {}

    /// An independent copy (the model checker branches on copies).
    public func copy() -> MemoryStorage {
        let twin = MemoryStorage()
        twin.records = records
        twin.hintTable = hintTable
        twin.members = members
        twin.pendingJoin = pendingJoin
        twin.epoch = epoch
        return twin
    }

    /// Everything stored, in canonical text: equal stores give equal text.
    public var canonicalDescription: String {
        var out = "epoch \(epoch) join \(pendingJoin ?? "-")\n"
        for key in keys() {
            let record = records[key]!
            out += "r \(key) \(record.ownActor ?? "-") \(record.siblings.metadata) \(record.siblings.values)\n"
        }
        for hint in hints() { out += "h \(hint.target) \(hint.key) \(hint.sequence)\n" }
        for member in members { out += "m \(member.name) \(member.address) \(member.status) \(member.version)\n" }
        return out
    }

    public func record(for key: String) -> StoredRecord? { records[key] }
    public func setRecord(_ record: StoredRecord, for key: String) { records[key] = record }
    public func removeRecord(for key: String) { records[key] = nil }
    public func keys() -> [String] { records.keys.sorted(by: byteOrder) }
    public var recordCount: Int { records.count }

    public func hints() -> [Hint] {
        hintTable.keys.sorted(by: byteOrder).flatMap { target in
            let byKey = hintTable[target]!
            return byKey.keys.sorted(by: byteOrder).map { byKey[$0]! }
        }
    }

    public func setHint(_ hint: Hint) { hintTable[hint.target, default: [:]][hint.key] = hint }

    public func removeHint(target: String, key: String) {
        hintTable[target]?[key] = nil
        if hintTable[target]?.isEmpty == true { hintTable[target] = nil }
    }

    public func membership() -> [MemberEntry] { members }
    public func setMembership(_ entries: [MemberEntry]) { members = entries }

    public func joinContact() -> Address? { pendingJoin }
    public func setJoinContact(_ contact: Address?) { pendingJoin = contact }

    public func nextEpoch() -> UInt64 {
        epoch += 1
        return epoch
    }
}
