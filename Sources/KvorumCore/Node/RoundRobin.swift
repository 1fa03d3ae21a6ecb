/// Takes turns: each call picks the next of the candidates it is given, so a
/// periodic task (anti-entropy, the view exchange) visits every peer in turn
/// even as the set of peers changes.
struct RoundRobin: Hashable {
    private var rounds = 0

    /// The candidate whose turn it is, or nil (and no turn taken) for none.
    /// The candidates may be a lazy view (a filter of the members), so that
    /// taking a turn, several times a second per node, builds no array.
    mutating func next<Candidates: Collection>(among candidates: Candidates) -> Candidates.Element? {
        let count = candidates.count
        guard count > 0 else { return nil }
        defer { rounds += 1 }
        return candidates.dropFirst(rounds % count).first
    }
}
