/// One node's entry in the membership view. Only the node itself changes its
/// own entry (bumping `version`), except that an operator's REMOVE marks
/// another node `left` with the next version; views merge without conflicts:
/// the higher version of an entry wins, `left` on a tie (a last-writer-wins
/// register per node).
public struct MemberEntry: Hashable, Sendable, Codable {
    public enum Status: String, Hashable, Sendable, Codable {
        case up
        case left
    }

    public var name: String
    public var address: String
    public var status: Status
    public var version: UInt64
    /// The node's stable identity (`NodeConfig.identity`): another process
    /// started under the same name has another identity and cannot take
    /// this entry over.
    public var identity: UInt64

    public init(name: String, address: String, status: Status, version: UInt64, identity: UInt64 = 0) {
        self.name = name
        self.address = address
        self.status = status
        self.version = version
        self.identity = identity
    }

    private enum CodingKeys: String, CodingKey {
        case name, address, status, version, identity
    }

    /// Reads an entry; one stored before identities existed has identity 0.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        address = try container.decode(String.self, forKey: .address)
        status = try container.decode(Status.self, forKey: .status)
        version = try container.decode(UInt64.self, forKey: .version)
        identity = try container.decodeIfPresent(UInt64.self, forKey: .identity) ?? 0
    }

    /// Why `self`, an entry a joiner sent, may not replace `current`, or nil.
    /// Identity 0 (an entry stored before identities existed) matches any.
    func impersonation(of current: MemberEntry) -> String? {
        guard current.status == .up, identity != 0, current.identity != 0, identity != current.identity else {
            return nil
        }
        return "the name '\(name)' belongs to another node, the member at \(current.address): "
            + "start this node under a new name (a replacement for a dead member joins under a new name after REMOVE)"
    }

    /// Whether this entry should replace `other` for the same node.
    func supersedes(_ other: MemberEntry) -> Bool {
        if version != other.version { return version > other.version }
        if status != other.status { return status == .left }
        return byteOrder(other.address, address)
    }
}

/// The cluster membership as one node sees it: every node ever heard of,
/// with those that left kept as tombstones so an old entry cannot bring them back.
public struct MembershipView: Sendable, Hashable {
    public private(set) var entries: [String: MemberEntry] = [:]
    /// A stable digest of the whole view, carried on every peer message so a
    /// node notices at once when a peer's view differs from its own. Kept up
    /// to date by `merge`, since every message sent reads it.
    public private(set) var digest: UInt64 = 0
    /// All entries in byte-wise name order; kept up to date by `merge`, since
    /// anti-entropy and request routing read it far more often than views change.
    public private(set) var sorted: [MemberEntry] = []
    /// Names of the members that are up, in byte-wise order; kept up to date by `merge`.
    public private(set) var upMembers: [String] = []

    public init(_ entries: [MemberEntry] = []) {
        merge(contentsOf: entries)
    }

    public func address(of name: String) -> String? { entries[name]?.address }

    /// Merges one entry; returns whether the view changed.
    @discardableResult
    public mutating func merge(_ entry: MemberEntry) -> Bool {
        merge(contentsOf: [entry])
    }

    /// Merges entries one by one; returns whether the view changed. The
    /// sorted entries, the members that are up and the digest are rebuilt
    /// once at the end, not after every entry: a peer's whole view arrives
    /// at once.
    @discardableResult
    public mutating func merge(contentsOf incoming: [MemberEntry]) -> Bool {
        var changed = false
        for entry in incoming {
            if let current = entries[entry.name],
                !entry.supersedes(current) || entry.impersonation(of: current) != nil
            {
                continue
            }
            entries[entry.name] = entry
            changed = true
        }
        guard changed else { return false }
        sorted = entries.keys.sorted(by: byteOrder).map { entries[$0]! }
        upMembers = sorted.filter { $0.status == .up }.map(\.name)
        var h: UInt64 = 0
        for entry in sorted {
            let text =
                "\(entry.name)\u{0}\(entry.address)\u{0}\(entry.status.rawValue)\u{0}\(entry.version)\u{0}\(entry.identity)"
            h = StableHash.mix(h ^ StableHash.hash(text))
        }
        digest = h
        return true
    }
}
