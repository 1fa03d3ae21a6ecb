/// What a node knows about the cluster: the membership view, the ring built
/// from it, the JOIN it is waiting on, and what it has told peers about its view.
struct MembershipState: Hashable {
    private(set) var view: MembershipView
    /// The ring of the view's members that are up, as of the last `rebuildRing`.
    private(set) var ring: Ring
    /// Where this node's own JOIN stands.
    enum JoinProgress: Hashable {
        /// No JOIN in progress (the node is a member, or never asked).
        case idle
        /// Asking the contact, until a view with another member arrives.
        case joining(contact: Address)
        /// The contact refused; the node refuses client requests with the
        /// reason until a later JOIN succeeds.
        case refused(reason: String)
    }

    private var join: JoinProgress
    /// The view digest last pushed to each peer, so a differing peer is told once.
    private var pushedDigests: [String: UInt64] = [:]
    /// Whose turn it is in the periodic view exchange.
    private var exchange = RoundRobin()

    init(entries: [MemberEntry], partitionCount: Int, joinContact: Address?) {
        view = MembershipView(entries)
        ring = Ring(members: view.upMembers, partitionCount: partitionCount)
        join = joinContact.map { .joining(contact: $0) } ?? .idle
    }

    /// The contact of a JOIN not yet answered.
    var joinContact: Address? {
        if case .joining(let contact) = join { contact } else { nil }
    }

    /// Why the last JOIN was refused, if it was.
    var joinRefusal: String? {
        if case .refused(let reason) = join { reason } else { nil }
    }

    /// Merges one entry into the view (the ring waits for `rebuildRing`).
    /// - Returns: whether the view changed.
    @discardableResult
    mutating func merge(_ entry: MemberEntry) -> Bool { view.merge(entry) }

    /// Merges a peer's entries (see `MembershipView.merge(contentsOf:)`).
    mutating func merge(contentsOf entries: [MemberEntry]) -> Bool { view.merge(contentsOf: entries) }

    /// Rebuilds the ring from the view's members that are up.
    /// - Returns: the ring before.
    mutating func rebuildRing() -> Ring {
        let old = ring
        ring = Ring(members: view.upMembers, partitionCount: ring.partitionCount)
        return old
    }

    /// A JOIN through `contact` is in progress (nil: none is).
    mutating func setJoinContact(_ contact: Address?) { join = contact.map { .joining(contact: $0) } ?? .idle }

    /// The JOIN was refused for `reason` (nil: forget an earlier refusal).
    mutating func setJoinRefusal(_ reason: String?) { join = reason.map { .refused(reason: $0) } ?? .idle }

    /// Whether `peer` was last pushed the current view.
    func hasPushedCurrentView(to peer: String) -> Bool { pushedDigests[peer] == view.digest }

    mutating func notePushedCurrentView(to peer: String) { pushedDigests[peer] = view.digest }

    /// The peer whose turn it is in the view exchange.
    mutating func nextExchangePeer<Peers: Collection<String>>(among peers: Peers) -> String? {
        exchange.next(among: peers)
    }

    /// Whether `name`'s entry says it is up.
    func isUp(_ name: String) -> Bool { view.entries[name]?.status == .up }
}
