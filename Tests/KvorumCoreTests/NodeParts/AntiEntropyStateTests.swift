import Testing

@testable import KvorumCore

@Suite("AntiEntropyState")
struct AntiEntropyStateTests {
    @Test func theTreeCountsTheKeysSetAndRemoved() {
        var state = AntiEntropyState(partitions: 16)
        state.replace(nil, with: 7, partition: 1)
        state.replace(nil, with: 9, partition: 1)
        state.replace(7, with: nil, partition: 1)
        state.replace(9, with: 12, partition: 2)
        #expect(state.tree.keyCount == 1)
        #expect(state.tree.leaves[1] == 9 && state.tree.leaves[2] == 9 ^ 12)
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

    /// While the differing partitions' keys fit the budget, all of them are
    /// compared, in the order given; past it, as many as fit at the average
    /// keys per partition, in turn, wrapping around.
    @Test func partitionsOverTheKeyBudgetTakeTurns() {
        var state = AntiEntropyState(partitions: 16)
        #expect(state.partitionsToCompare([9, 2, 5], keyBudget: 3) == [9, 2, 5])
        for key in 0..<160 { state.replace(nil, with: UInt64(key + 1), partition: key % 16) }
        #expect(state.partitionsToCompare([2, 5], keyBudget: 25) == [2, 5])
        var chosen: [[Int]] = []
        for _ in 0..<4 { chosen.append(state.partitionsToCompare([11, 2, 7, 5, 13], keyBudget: 25)) }
        #expect(chosen == [[2, 5], [7, 11], [2, 13], [5, 7]])
        #expect(state.partitionsToCompare([3, 4], keyBudget: 1) == [3])
    }

    @Test func aPeersPartitionsOverTheKeyBudgetAreCutToTheFirstThatFit() {
        var state = AntiEntropyState(partitions: 16)
        #expect(state.partitionsToAccept([9, 2, 5], keyBudget: 3) == [9, 2, 5])
        for key in 0..<160 { state.replace(nil, with: UInt64(key + 1), partition: key % 16) }
        #expect(state.partitionsToAccept([2, 5, 7], keyBudget: 30) == [2, 5, 7])
        #expect(state.partitionsToAccept([11, 2, 7, 5, 13], keyBudget: 25) == [11, 2])
        #expect(state.partitionsToAccept([3, 4], keyBudget: 1) == [3])
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
