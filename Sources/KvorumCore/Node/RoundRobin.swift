/// Takes turns: each call picks the next of the candidates it is given, so a
/// periodic task (anti-entropy, the view exchange) visits every peer in turn
/// even as the set of peers changes.
struct RoundRobin: Hashable {
    private var rounds = 0

    /// The candidate whose turn it is, or nil (and no turn taken) for none.
    mutating func next<T>(among candidates: [T]) -> T? {
        guard !candidates.isEmpty else { return nil }
        defer { rounds += 1 }
        return candidates[rounds % candidates.count]
    }
}
