/// The consistent-hash ring (Dynamo §4.2, partitioning strategy 3).
///
/// The hash space is cut into `partitionCount` equal partitions (the virtual
/// nodes). Each partition is owned by the member with the highest rendezvous
/// score `mix(hash(name) ^ partition · φ)`, so ownership is a pure function of
/// the member set: every node computes the same ring, each member owns about
/// `1/S` of the partitions, and a JOIN or LEAVE only moves the partitions whose
/// highest score changes. A key's preference list walks the partitions
/// clockwise from the key's partition and collects distinct owners; its first
/// N entries are the key's replicas, the rest are stand-in candidates in order.
public struct Ring: Sendable, Equatable {
    public let members: [String]
    public let partitionCount: Int
    private let owners: [Int32]

    public init(members: [String], partitionCount: Int = 4096) {
        precondition(partitionCount > 0, "a ring needs at least one partition")
        let sorted = Array(Set(members)).sorted(by: byteOrder)
        self.members = sorted
        self.partitionCount = partitionCount
        guard !sorted.isEmpty else {
            owners = []
            return
        }
        let seeds = sorted.map(StableHash.hash)
        owners = (0..<partitionCount).map { partition in
            let salt = UInt64(partition) &* 0x9E37_79B9_7F4A_7C15
            var best = 0
            var bestScore = StableHash.mix(seeds[0] ^ salt)
            for i in 1..<seeds.count {
                let score = StableHash.mix(seeds[i] ^ salt)
                if score > bestScore {
                    best = i
                    bestScore = score
                }
            }
            return Int32(best)
        }
    }

    public var isEmpty: Bool { members.isEmpty }

    public func partition(of key: String) -> Int {
        Int(StableHash.hash(key) % UInt64(partitionCount))
    }

    /// Every member, the key's replicas first, then the rest in ring order.
    public func preferenceList(for key: String) -> [String] {
        preferenceList(forPartition: partition(of: key), limit: members.count)
    }

    /// The key's first `n` distinct owners clockwise: its replicas.
    public func replicas(for key: String, n: Int) -> [String] {
        preferenceList(forPartition: partition(of: key), limit: n)
    }

    /// The first `n` distinct owners clockwise from a partition: the replicas
    /// of every key in it.
    public func replicas(forPartition partition: Int, n: Int) -> [String] {
        preferenceList(forPartition: partition, limit: n)
    }

    private func preferenceList(forPartition start: Int, limit: Int) -> [String] {
        let wanted = min(limit, members.count)
        var seen = [Bool](repeating: false, count: members.count)
        var result: [String] = []
        result.reserveCapacity(wanted)
        var p = start
        var steps = 0
        while result.count < wanted && steps < partitionCount {
            let owner = Int(owners[p])
            if !seen[owner] {
                seen[owner] = true
                result.append(members[owner])
            }
            p = (p + 1) % partitionCount
            steps += 1
        }
        if result.count < wanted {
            // Members that own no partition at all still belong in the list.
            for (i, name) in members.enumerated() where !seen[i] && result.count < wanted {
                result.append(name)
            }
        }
        return result
    }
}
