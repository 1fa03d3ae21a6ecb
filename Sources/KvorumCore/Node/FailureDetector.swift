/// Which peers this node suspects (Dynamo §4.8.3: local and timeout-based).
///
/// A peer becomes suspected when it fails to answer within a request timeout,
/// and stops being suspected as soon as any message from it arrives. Suspected
/// peers are skipped when a coordinator picks nodes, and probed with pings
/// until they answer or leave the ring. Suspicion is never shared: each node
/// learns for itself.
struct FailureDetector: Hashable {
    private var suspects: Set<String> = []

    func isSuspected(_ peer: String) -> Bool { suspects.contains(peer) }

    var isEmpty: Bool { suspects.isEmpty }

    /// The suspected peers, in byte order.
    var sorted: [String] { suspects.sorted(by: byteOrder) }

    /// Starts suspecting `peer`.
    /// - Returns: true if it was not suspected before.
    mutating func suspect(_ peer: String) -> Bool {
        suspects.insert(peer).inserted
    }

    /// A message from `peer` arrived: it is alive.
    /// - Returns: true if it was suspected until now.
    /// Checks for no suspects first, as `Set.remove` hashes the name even
    /// then, and this runs for every message a node receives.
    @discardableResult
    mutating func heard(from peer: String) -> Bool {
        !suspects.isEmpty && suspects.remove(peer) != nil
    }

    /// Stops suspecting every peer that is not a member.
    mutating func forgetAll(unless isMember: (String) -> Bool) {
        suspects = suspects.filter(isMember)
    }

    /// One probe round: forgets peers that are no longer members, and
    /// returns the rest, in byte order, to be pinged.
    mutating func probeRound(isMember: (String) -> Bool) -> [String] {
        forgetAll(unless: isMember)
        return sorted
    }
}
