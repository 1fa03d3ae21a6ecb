import Testing

@testable import KvorumCore

@Suite("MembershipState")
struct MembershipStateTests {
    private func up(_ name: String, version: UInt64 = 1) -> MemberEntry {
        MemberEntry(name: name, address: "\(name):1", status: .up, version: version)
    }

    @Test func theRingFollowsTheViewOnlyWhenRebuilt() {
        var state = MembershipState(entries: [up("a")], partitionCount: 8, joinContact: nil)
        #expect(state.ring.members == ["a"])
        let changed = state.merge(up("b"))
        #expect(changed)
        #expect(state.ring.members == ["a"])
        let old = state.rebuildRing()
        #expect(old.members == ["a"])
        #expect(state.ring.members == ["a", "b"])
        #expect(state.isUp("b"))
        #expect(!state.isUp("c"))
    }

    @Test func aPushIsRememberedForTheViewItCarried() {
        var state = MembershipState(entries: [up("a")], partitionCount: 8, joinContact: nil)
        #expect(!state.hasPushedCurrentView(to: "b"))
        state.notePushedCurrentView(to: "b")
        #expect(state.hasPushedCurrentView(to: "b"))
        state.merge(up("c"))
        #expect(!state.hasPushedCurrentView(to: "b"))
    }

    @Test func theViewExchangeVisitsPeersInTurn() {
        var state = MembershipState(entries: [], partitionCount: 8, joinContact: "x:1")
        #expect(state.joinContact == "x:1")
        let none = state.nextExchangePeer(among: [])
        #expect(none == nil)
        let picks = (0..<4).compactMap { _ in state.nextExchangePeer(among: ["b", "c"]) }
        #expect(picks == ["b", "c", "b", "c"])
    }
}
