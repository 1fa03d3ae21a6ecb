import KvorumCore

/// How many peer messages of each kind were sent, counted by wire tag
/// (`PeerMessageTag`) in a fixed table: counting is then an increment, where
/// a table keyed by the kind's name would hash the name for every message.
struct MessageCounts {
    private var counts = [Int](repeating: 0, count: Int(UInt8.max) + 1)
    /// The kind's name (`PeerBody.kind`) of every tag counted so far.
    private var names = [String?](repeating: nil, count: Int(UInt8.max) + 1)

    /// Counts one message.
    mutating func count(_ body: PeerBody) {
        let tag = Int(body.tag.rawValue)
        if counts[tag] == 0 { names[tag] = body.kind }
        counts[tag] += 1
    }

    /// The counts by kind name, kinds never sent left out.
    var byKind: [String: Int] {
        var table: [String: Int] = [:]
        for (tag, count) in counts.enumerated() where count > 0 {
            table[names[tag]!] = count
        }
        return table
    }
}
