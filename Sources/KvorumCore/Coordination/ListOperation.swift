/// A key listing this node coordinates (a coverage query): every partition
/// of the ring is asked of one replica that is up, each asked node gets one
/// `listKeys` for all its partitions, and the answers merge into one page.
/// A node that does not answer in time is suspected and its partitions are
/// asked of their next replica; the listing never answers with a partition
/// missing.
struct ListOperation: Hashable {
    var client: RequestID
    var query: KeyQuery
    /// After this time no new node is asked; the listing fails if incomplete.
    var deadline: Double
    /// How many times nodes were asked: only answers of the current round count.
    var round = 0
    /// Asked nodes that have not answered yet, with the partitions each was asked for.
    var pending: [String: [Int]] = [:]
    /// Nodes that did not answer this listing in time: not asked again by it.
    var failed: Set<String> = []
    var merge: KeyPageMerge

    init(client: RequestID, query: KeyQuery, deadline: Double) {
        self.client = client
        self.query = query
        self.deadline = deadline
        merge = KeyPageMerge(limit: query.limit)
    }

    /// Records `peer`'s answer in `round`.
    /// - Returns: false, changing nothing, when `peer` was not waited for in
    ///   this round (a late answer from a node whose partitions went to
    ///   another, or an earlier round's answer delivered twice).
    mutating func record(_ keys: [Key], full: Bool, from peer: String, round: Int) -> Bool {
        guard round == self.round, pending.removeValue(forKey: peer) != nil else { return false }
        merge.add(keys, full: full)
        return true
    }
}
