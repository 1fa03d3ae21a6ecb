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
    /// each partition lists its keys' latest digests and XORs them into its leaf.
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
            tree.set(key: key, partition: partition, digest: new)
            digests[key] = new
        }
        #expect(tree.sharedMask(with: "late") == masks["late"])
        for partition in 0..<partitions {
            let expected = digests.compactMap { key, digest -> KeyDigest? in
                guard Int(StableHash.hash(key) % UInt64(partitions)) == partition else { return nil }
                return KeyDigest(key: key, digest: digest)
            }.sorted { $0.key < $1.key }
            #expect(tree.digests(in: partition) == expected, "partition \(partition)")
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

    /// Keys that differ only in Unicode normalisation have a digest each, so
    /// the tree agrees with a store that holds both.
    @Test func keysThatDifferOnlyInNormalisationHaveADigestEach() {
        var tree = MerkleTree(partitions: 4)
        let (nfc, nfd): (Key, Key) = ("caf\u{E9}", "cafe\u{301}")
        tree.set(key: nfc, partition: 0, digest: 0b01)
        tree.set(key: nfd, partition: 0, digest: 0b10)
        #expect(tree.keyCount == 2)
        #expect(tree.leaves[0] == 0b11)
        tree.set(key: nfc, partition: 0, digest: nil)
        #expect(tree.digests(in: 0).map { Array($0.key.utf8) } == [Array(nfd.utf8)])
        #expect(tree.leaves[0] == 0b10)
    }
}
