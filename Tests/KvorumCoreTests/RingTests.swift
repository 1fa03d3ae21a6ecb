import KvorumTestKit
import Testing

@testable import KvorumCore

struct RingTests {
    static let six = (1...6).map { "node0\($0)" }
    static let keys = randomKeys(count: 100_000, seed: 0x4B56_4F52_554D)
    static let sampleKeys = randomKeys(count: 500, seed: 7)

    /// Replica sets of every key in `keys`, one per key.
    static func replicaSets(_ ring: Ring) -> [Set<String>] {
        keys.map { Set(ring.replicas(for: $0, n: 3)) }
    }

    static let sixNodeReplicaSets = replicaSets(Ring(members: six))

    /// The same members given in any order, with duplicates, build the same ring.
    @Test func memberOrderDoesNotMatter() {
        let reference = Ring(members: Self.six)
        var rng = SplitMix64(seed: 1)
        for _ in 0..<5 {
            let ring = Ring(members: (Self.six + ["node03"]).shuffled(using: &rng))
            #expect(ring == reference)
            #expect(ring.members == Self.six)
            for key in Self.sampleKeys {
                #expect(ring.preferenceList(for: key) == reference.preferenceList(for: key))
            }
        }
    }

    /// A preference list names every member exactly once, so its replicas are distinct.
    @Test func preferenceListHasEveryMemberOnce() {
        let ring = Ring(members: Self.six)
        for key in Self.sampleKeys {
            let list = ring.preferenceList(for: key)
            #expect(list.count == Self.six.count)
            #expect(Set(list) == Set(Self.six))
            #expect(Set(list.prefix(3)).count == 3)
        }
    }

    /// `replicas(for:n:)` is the first `n` entries of the preference list.
    @Test func replicasArePrefixOfPreferenceList() {
        let ring = Ring(members: Self.six)
        for key in Self.sampleKeys {
            let list = ring.preferenceList(for: key)
            for n in 0...8 {
                #expect(ring.replicas(for: key, n: n) == Array(list.prefix(n)))
            }
        }
    }

    /// With fewer members than N every member is a replica, once.
    @Test func fewerMembersThanReplicas() {
        let ring = Ring(members: ["node02", "node01"])
        for key in Self.sampleKeys {
            let replicas = ring.replicas(for: key, n: 3)
            #expect(replicas.count == 2)
            #expect(Set(replicas) == ["node01", "node02"])
        }
    }

    /// Members that own no partition still appear in preference lists.
    @Test func membersWithoutPartitionsStillListed() {
        let ring = Ring(members: ["a", "b", "c"], partitionCount: 1)
        let list = ring.preferenceList(for: "k")
        #expect(list.count == 3)
        #expect(Set(list) == ["a", "b", "c"])
        #expect(ring.replicas(for: "k", n: 3) == list)
    }

    /// Every partition's preference list is what walking the ring clockwise
    /// from it gives: distinct owners in order, then members owning nothing.
    @Test(arguments: [(6, 4096), (3, 16), (5, 7), (9, 3)])
    func preferenceListsMatchRingWalk(memberCount: Int, partitionCount: Int) {
        let members = (1...memberCount).map { "n\($0)" }
        let ring = Ring(members: members, partitionCount: partitionCount)
        let owners = (0..<partitionCount).map { ring.replicas(forPartition: $0, n: 1)[0] }
        for start in 0..<partitionCount {
            var walk: [String] = []
            for step in 0..<partitionCount where walk.count < memberCount {
                let owner = owners[(start + step) % partitionCount]
                if !walk.contains(owner) { walk.append(owner) }
            }
            walk += ring.members.filter { !walk.contains($0) }
            #expect(ring.replicas(forPartition: start, n: memberCount) == walk)
            #expect(ring.replicas(forPartition: start, n: 2) == Array(walk.prefix(2)))
        }
    }

    /// The partitions two nodes both replicate, as anti-entropy pairs them,
    /// agree with the replica lists, for a node with itself and a non-member too.
    @Test func replicatedByBothMatchesReplicaLists() {
        let ring = Ring(members: ["n1", "n2", "n3", "n4", "n5"], partitionCount: 256)
        for (a, b) in [("n1", "n2"), ("n4", "n1"), ("n3", "n3"), ("n2", "n9")] {
            for n in [1, 3, 9] {
                let expected = (0..<256).map { partition in
                    let replicas = ring.replicas(forPartition: partition, n: n)
                    return replicas.contains(a) && replicas.contains(b)
                }
                #expect(ring.replicatedByBoth(a, b, n: n) == expected, "\(a) \(b) n=\(n)")
            }
        }
        #expect(ring.replicatedByBoth("n1", "n2", n: 3).contains(true))
        #expect(
            Ring(members: [], partitionCount: 8).replicatedByBoth("n1", "n2", n: 3) == Array(repeating: false, count: 8)
        )
    }

    /// An empty ring has no replicas and no preference list.
    @Test func emptyRing() {
        let ring = Ring(members: [])
        #expect(ring.isEmpty)
        #expect(ring.preferenceList(for: "k").isEmpty)
        #expect(ring.replicas(for: "k", n: 3).isEmpty)
    }

    /// Placement is pinned: a change to the hash or the ring layout moves data and must be deliberate.
    @Test func placementIsPinned() {
        let ring = Ring(members: Self.six)
        #expect(ring.partition(of: "cart-42") == 729)
        #expect(ring.preferenceList(for: "cart-42") == ["node06", "node04", "node03", "node05", "node01", "node02"])
        #expect(ring.preferenceList(for: "hello") == ["node04", "node03", "node02", "node06", "node05", "node01"])
    }

    /// In a 6-node ring each node holds within ±10% of the ideal half of all keys (SPEC §3).
    @Test func balanceWithSixNodes() {
        var share: [String: Int] = [:]
        for replicas in Self.sixNodeReplicaSets {
            for node in replicas { share[node, default: 0] += 1 }
        }
        let ideal = Double(Self.keys.count * 3) / 6
        let worst = Self.six.map { abs(Double(share[$0, default: 0]) - ideal) / ideal }.max()!
        print("ring balance: shares \(Self.six.map { share[$0, default: 0] }), worst deviation \(worst * 100)%")
        for node in Self.six {
            #expect(abs(Double(share[node, default: 0]) - ideal) <= 0.10 * ideal, "\(node)")
        }
    }

    /// A JOIN moves at most 1.2× the ideal data, and only onto keys the new node now replicates.
    @Test func joinMovesLittle() {
        let before = Self.sixNodeReplicaSets
        let after = Self.replicaSets(Ring(members: Self.six + ["node07"]))
        var moved = 0
        for (old, new) in zip(before, after) where old != new {
            moved += new.subtracting(old).count
            #expect(new.contains("node07"))
        }
        let ideal = Double(Self.keys.count * 3) / 7
        print("ring join node07: moved \(moved), ideal \(Int(ideal)), ratio \(Double(moved) / ideal)")
        #expect(Double(moved) <= 1.2 * ideal)
    }

    /// A LEAVE moves at most 1.2× the ideal data, and only for keys the leaver replicated.
    @Test(arguments: six) func leaveMovesLittle(leaver: String) {
        let before = Self.sixNodeReplicaSets
        let after = Self.replicaSets(Ring(members: Self.six.filter { $0 != leaver }))
        var moved = 0
        for (old, new) in zip(before, after) where old != new {
            moved += new.subtracting(old).count
            #expect(old.contains(leaver))
        }
        let ideal = Double(Self.keys.count * 3) / 6
        print("ring leave \(leaver): moved \(moved), ideal \(Int(ideal)), ratio \(Double(moved) / ideal)")
        #expect(Double(moved) <= 1.2 * ideal)
    }
}

struct StableHashTests {
    /// Hash outputs are pinned (FNV-1a 64 + fmix64, checked against an independent implementation).
    @Test(arguments: [
        ("", 0xefd0_1f60_ba99_2926 as UInt64),
        ("a", 0x82a2_a958_a9be_ce5b),
        ("node01", 0x94af_921b_76a4_fb79),
        ("cart-42", 0x20f2_f4e8_7203_72d9),
        ("ключ", 0x5905_20d7_1827_5ed5),
    ])
    func pinnedOutputs(text: String, expected: UInt64) {
        #expect(StableHash.hash(text) == expected)
    }

    /// The fmix64 finaliser maps zero to zero and spreads neighbouring inputs apart.
    @Test func mixFinaliser() {
        #expect(StableHash.mix(0) == 0)
        #expect((StableHash.mix(1) ^ StableHash.mix(2)).nonzeroBitCount > 16)
    }
}
