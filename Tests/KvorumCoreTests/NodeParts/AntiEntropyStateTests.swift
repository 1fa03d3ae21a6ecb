import Testing

@testable import KvorumCore

@Suite("AntiEntropyState")
struct AntiEntropyStateTests {
    @Test func theTreeCountsTheKeysSetAndRemoved() {
        var state = AntiEntropyState(partitions: 16)
        state.set(key: "a", partition: 1, digest: 7)
        state.set(key: "b", partition: 1, digest: 9)
        state.set(key: "a", partition: 1, digest: nil)
        #expect(state.tree.keyCount == 1)
        #expect(state.tree.digests(in: 1) == [KeyDigest(key: "b", digest: 9)])
    }

    @Test func sharedPartitionsAreComputedOncePerRing() {
        var state = AntiEntropyState(partitions: 16)
        var computed = 0
        let mask = (0..<16).map { $0 % 2 == 0 ? ~0 : 0 as UInt64 }
        for _ in 0..<3 {
            let shared = state.sharedPartitions(with: "b") {
                computed += 1
                return mask
            }
            #expect(shared == mask)
        }
        #expect(computed == 1)
        state.forgetSharing()
        _ = state.sharedPartitions(with: "b") {
            computed += 1
            return mask
        }
        #expect(computed == 2)
    }

    @Test func roundsTakeTurns() {
        var state = AntiEntropyState(partitions: 16)
        var picks: [String?] = []
        picks.append(state.nextPeer(among: []))
        picks.append(state.nextPeer(among: ["b", "c", "d"]))
        picks.append(state.nextPeer(among: ["b", "c", "d"]))
        picks.append(state.nextPeer(among: ["b", "d"]))
        #expect(picks == [nil, "b", "c", "b"])
    }
}
