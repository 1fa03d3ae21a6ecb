import KvorumTestKit
import Testing

@testable import KvorumCore

struct MerkleTreeTests {
    /// The hash of node `index` at `level` recomputed from the leaves.
    static func recomputed(_ tree: MerkleTree, level: Int, index: Int, mask: [UInt64]) -> UInt64 {
        let span = tree.span(at: level)
        var h: UInt64 = 0
        for partition in (index * span)..<min((index + 1) * span, tree.leaves.count) {
            h ^= tree.leaves[partition] & mask[partition]
        }
        return h
    }

    /// A peer's restricted hashes, kept up to date across updates (whether
    /// shared before or after them), equal a recomputation from the leaves;
    /// each partition's leaf is the XOR of its keys' latest digests.
    @Test func sharedHashesFollowUpdates() {
        let partitions = 300
        var rng = SplitMix64(seed: 11)
        var tree = MerkleTree(partitions: partitions)
        let masks: [String: [UInt64]] = [
            "early": (0..<partitions).map { _ in rng.next() % 2 == 0 ? ~0 : 0 },
            "late": (0..<partitions).map { _ in rng.next() % 3 == 0 ? ~0 : 0 },
        ]
        tree.share(with: "early", mask: masks["early"]!)
        var digests: [Key: UInt64] = [:]
        for round in 0..<2000 {
            if round == 1000 { tree.share(with: "late", mask: masks["late"]!) }
            let key: Key = "key-\(rng.next() % 400)"
            let partition = Int(StableHash.hash(key) % UInt64(partitions))
            let new: UInt64? = rng.next() % 5 == 0 ? nil : rng.next()
            tree.replace(digests[key], with: new, partition: partition)
            digests[key] = new
        }
        #expect(tree.keyCount == digests.count)
        #expect(tree.sharedMask(with: "late") == masks["late"])
        for partition in 0..<partitions {
            let expected = digests.compactMap { key, digest -> KeyDigest? in
                guard Int(StableHash.hash(key) % UInt64(partitions)) == partition else { return nil }
                return KeyDigest(key: key, digest: digest)
            }.sorted { $0.key < $1.key }
            #expect(tree.leaves[partition] == expected.reduce(0) { $0 ^ $1.digest }, "partition \(partition)")
        }
        for (peer, mask) in masks {
            for level in 1...tree.depth {
                let width = tree.width(at: level)
                let hashes = tree.hashes(level: level, indices: 0..<width, sharedWith: peer)
                #expect(hashes.map(\.index) == Array(0..<width))
                for entry in hashes {
                    #expect(entry.hash == Self.recomputed(tree, level: level, index: entry.index, mask: mask))
                }
            }
        }
        tree.forgetSharing()
        #expect(tree.sharedMask(with: "early") == nil)
    }

    /// A tree restored from partition summaries is the tree the same
    /// changes built: a restart needs no record to rebuild it.
    @Test func restoringFromSummariesGivesTheSameTree() {
        var built = MerkleTree(partitions: 40)
        var summaries = (0..<40).map { PartitionSummary(partition: $0) }
        var rng = SplitMix64(seed: 5)
        var digests: [Int: UInt64] = [:]
        for _ in 0..<500 {
            let key = Int(rng.next() % 100)
            let new: UInt64? = rng.next() % 4 == 0 ? nil : rng.next()
            built.replace(digests[key], with: new, partition: key % 40)
            summaries[key % 40].replace(digests[key], with: new)
            digests[key] = new
        }
        let restored = MerkleTree(partitions: 40, restoring: summaries.filter { !$0.isEmpty })
        #expect(restored == built)
        #expect(restored.keyCount == digests.values.count)
        #expect(restored.leaves.contains { $0 != 0 })
    }
}
