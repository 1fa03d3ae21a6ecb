import Testing

@testable import KvorumCore

/// The reaper on its own: which keys it holds, how it pages through them,
/// how a round collects answers and when a key is clean.
@Suite("Reaper")
struct ReaperTests {
    @Test func keepsDeletedKeysInByteOrder() {
        var reaper = Reaper()
        for key: Key in ["b", "a", "\u{e9}", "c"] { reaper.note(key, isDeleted: true) }
        reaper.note("a", isDeleted: true)
        reaper.note("c", isDeleted: false)
        reaper.note("zz", isDeleted: false)
        #expect(reaper.deleted == ["a", "b", "\u{e9}"])
        #expect(reaper.violations().isEmpty)
    }

    @Test func batchesWrapAroundFromTheCursor() {
        var reaper = Reaper()
        for key: Key in ["a", "b", "c", "d", "e"] { reaper.note(key, isDeleted: true) }
        let first = reaper.nextBatch(limit: 2) { _ in true }
        #expect(first == ["a", "b"])
        let second = reaper.nextBatch(limit: 2) { _ in true }
        #expect(second == ["c", "d"])
        let third = reaper.nextBatch(limit: 2) { _ in true }
        #expect(third == ["e", "a"])
        let filtered = reaper.nextBatch(limit: 5) { $0 != "c" }
        #expect(filtered == ["b", "d", "e", "a"])
    }

    /// A round completes with the last answer; stale round ids, strangers
    /// and second answers are ignored.
    @Test func roundCompletesWhenEveryMemberAnswered() {
        var reaper = Reaper()
        reaper.note("k", isDeleted: true)
        reaper.begin(Reaper.Round(id: 7, keys: ["k"], digests: ["k": 42], awaiting: ["b", "c"]))
        let staleRound = reaper.answer(6, from: "b", held: [KeyDigest(key: "k", digest: 42)])
        #expect(staleRound == nil)
        let stranger = reaper.answer(7, from: "x", held: [])
        #expect(stranger == nil)
        let firstAnswer = reaper.answer(7, from: "b", held: [KeyDigest(key: "k", digest: 42)])
        #expect(firstAnswer == nil)
        let secondAnswer = reaper.answer(7, from: "b", held: [])
        #expect(secondAnswer == nil)
        let done = reaper.answer(7, from: "c", held: [])
        #expect(done?.isComplete == true)
        #expect(reaper.round == nil)
        #expect(done?.isClean("k", replicas: ["a", "b", "d"], leader: "a") == false, "replica d never answered")
        #expect(done?.isClean("k", replicas: ["a", "b", "c"], leader: "a") == false, "replica c holds nothing")
        #expect(done?.stale("k", replicas: ["a", "b", "c"]) == ["c"])
    }

    @Test func cleanOnlyWhenEveryoneHoldsTheSameTombstonesOrNothing() {
        var round = Reaper.Round(id: 1, keys: ["k"], digests: ["k": 42], awaiting: [])
        round.held = ["b": ["k": 42], "c": ["k": 42], "d": [:]]
        #expect(round.isClean("k", replicas: ["a", "b", "c"], leader: "a"))
        #expect(!round.isClean("k", replicas: ["b", "c", "d"], leader: "a"), "the leader is no replica")
        round.held["d"] = ["k": 41]
        #expect(!round.isClean("k", replicas: ["a", "b", "c"], leader: "a"), "d holds another copy")
        #expect(round.stale("k", replicas: ["a", "b", "c"]) == ["d"])
        #expect(round.holders(of: "k") == ["b", "c", "d"])
        round.awaiting = ["e"]
        round.held["d"] = nil
        #expect(!round.isClean("k", replicas: ["a", "b", "c"], leader: "a"), "e has not answered")
    }

    /// The grace period runs from the first clean check in a row, and any
    /// unclean check (or a write to the key) starts it over.
    @Test func graceRunsFromTheFirstCleanCheck() {
        var reaper = Reaper()
        reaper.note("k", isDeleted: true)
        let firstClean = reaper.clean("k", at: 10, grace: 5)
        #expect(!firstClean)
        let withinGrace = reaper.clean("k", at: 14, grace: 5)
        #expect(!withinGrace)
        let afterGrace = reaper.clean("k", at: 15, grace: 5)
        #expect(afterGrace)
        reaper.unclean("k")
        let afterUnclean = reaper.clean("k", at: 16, grace: 5)
        #expect(!afterUnclean)
        reaper.note("k", isDeleted: false)
        reaper.note("k", isDeleted: true)
        let afterRewrite = reaper.clean("k", at: 30, grace: 5)
        #expect(!afterRewrite)
        let noGrace = reaper.clean("k", at: 40, grace: 0)
        #expect(noGrace)
        #expect(reaper.violations().isEmpty)
    }
}
