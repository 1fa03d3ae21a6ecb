/// The consistent-hash ring (Dynamo §4.2; equal partitions are strategy 3 of §6.2).
///
/// The hash space is cut into `partitionCount` equal partitions (the virtual
/// nodes). Each partition is owned by the member with the highest rendezvous
/// score `mix(hash(name) ^ partition · φ)`, so ownership is a pure function of
/// the member set: every node computes the same ring, each member owns about
/// `1/S` of the partitions, and a JOIN or LEAVE only moves the partitions whose
/// highest score changes. A key's preference list walks the partitions
/// clockwise from the key's partition and collects distinct owners; its first
/// N entries are the key's replicas, the rest are stand-in candidates in order.
public struct Ring: Sendable, Hashable {
    public let members: [String]
    public let partitionCount: Int
    /// Every partition's preference list as indices into `members`: partition
    /// `p`'s is `order[p * members.count ..< (p + 1) * members.count]`.
    /// Computed once, as lookups far outnumber membership changes.
    private let order: [Int32]

    public init(members: [String], partitionCount: Int = 4096) {
        precondition(partitionCount > 0, "a ring needs at least one partition")
        let sorted = Array(Set(members)).sorted(by: byteOrder)
        self.members = sorted
        self.partitionCount = partitionCount
        guard !sorted.isEmpty else {
            order = []
            return
        }
        let seeds = sorted.map(StableHash.hash)
        let owners = (0..<partitionCount).map { partition in
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
        order = Self.preferenceOrder(owners: owners, memberCount: sorted.count)
    }

    /// The preference lists of every partition, laid out as `order` is.
    ///
    /// The last partition's list comes from walking the ring clockwise once
    /// and collecting distinct owners, then every member that owns nothing, in
    /// member order. Each earlier partition's list is its owner followed by
    /// the next partition's list without that owner, which is what the same
    /// walk would give, in O(members) per partition.
    private static func preferenceOrder(owners: [Int32], memberCount m: Int) -> [Int32] {
        let partitionCount = owners.count
        var order = [Int32](repeating: 0, count: partitionCount * m)
        var seen = [Bool](repeating: false, count: m)
        var filled = (partitionCount - 1) * m
        for step in 0..<partitionCount {
            let owner = owners[(partitionCount - 1 + step) % partitionCount]
            if !seen[Int(owner)] {
                seen[Int(owner)] = true
                order[filled] = owner
                filled += 1
            }
        }
        for member in 0..<m where !seen[member] {
            order[filled] = Int32(member)
            filled += 1
        }
        // Plain loops over the buffer: this runs partitions × members times
        // for every new ring, and iterators cost dearly in debug builds (tests).
        order.withUnsafeMutableBufferPointer { order in
            var partition = partitionCount - 2
            while partition >= 0 {
                let base = partition * m
                let owner = owners[partition]
                order[base] = owner
                var filled = base + 1
                var next = base + m
                while next < base + 2 * m {
                    if order[next] != owner {
                        order[filled] = order[next]
                        filled += 1
                    }
                    next += 1
                }
                partition -= 1
            }
        }
        return order
    }

    public var isEmpty: Bool { members.isEmpty }

    /// Rings are equal when built from the same members and partition count:
    /// the preference order is a pure function of the two.
    public static func == (a: Ring, b: Ring) -> Bool {
        a.members == b.members && a.partitionCount == b.partitionCount
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(members)
        hasher.combine(partitionCount)
    }

    /// The partition of a key's bytes.
    public func partition(of key: Key) -> Int {
        Self.partition(of: key, partitionCount: partitionCount)
    }

    /// The partition of a key's bytes on any ring of `partitionCount`
    /// partitions: it does not depend on the members.
    public static func partition(of key: Key, partitionCount: Int) -> Int {
        Int(StableHash.hash(key) % UInt64(partitionCount))
    }

    /// Every member, the key's replicas first, then the rest in ring order.
    public func preferenceList(for key: Key) -> [String] {
        preferenceList(forPartition: partition(of: key), limit: members.count)
    }

    /// The key's first `n` distinct owners clockwise: its replicas.
    public func replicas(for key: Key, n: Int) -> [String] {
        preferenceList(forPartition: partition(of: key), limit: n)
    }

    /// Whether `member` is one of the key's replicas: `replicas(for:n:)`
    /// contains it. Builds no list, as it runs for every copy a node stores.
    public func isReplica(_ member: String, of key: Key, n: Int) -> Bool {
        let base = partition(of: key) * members.count
        let end = base + min(n, members.count)
        var slot = base
        while slot < end {
            if members[Int(order[slot])] == member { return true }
            slot += 1
        }
        return false
    }

    /// The first `n` distinct owners clockwise from a partition: the replicas
    /// of every key in it.
    public func replicas(forPartition partition: Int, n: Int) -> [String] {
        preferenceList(forPartition: partition, limit: n)
    }

    /// For each partition, whether both `a` and `b` are among its first `n`
    /// replicas (false for every partition when either is not a member).
    public func replicatedByBoth(_ a: String, _ b: String, n: Int) -> [Bool] {
        guard let first = members.firstIndex(of: a).map(Int32.init),
            let second = members.firstIndex(of: b).map(Int32.init)
        else { return Array(repeating: false, count: partitionCount) }
        let m = members.count
        let n = min(n, m)
        var both = [Bool](repeating: false, count: partitionCount)
        // Plain loops, as in `preferenceOrder`: this runs for every peer
        // after every ring change.
        order.withUnsafeBufferPointer { order in
            var partition = 0
            while partition < partitionCount {
                var found = 0
                var slot = partition * m
                while slot < partition * m + n {
                    if order[slot] == first || order[slot] == second { found += 1 }
                    slot += 1
                }
                both[partition] = found == (first == second ? 1 : 2)
                partition += 1
            }
        }
        return both
    }

    private func preferenceList(forPartition start: Int, limit: Int) -> [String] {
        let base = start * members.count
        return order[base..<(base + min(limit, members.count))].map { members[Int($0)] }
    }
}
