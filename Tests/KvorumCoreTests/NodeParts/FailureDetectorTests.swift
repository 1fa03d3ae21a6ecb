import Testing

@testable import KvorumCore

@Suite("FailureDetector")
struct FailureDetectorTests {
    @Test func aPeerIsSuspectedOnceUntilHeardFrom() {
        var detector = FailureDetector()
        let first = detector.suspect("b")
        let second = detector.suspect("b")
        #expect(first && !second)
        #expect(detector.isSuspected("b"))
        detector.heard(from: "b")
        #expect(!detector.isSuspected("b"))
        #expect(detector.isEmpty)
        let again = detector.suspect("b")
        #expect(again)
    }

    @Test func aProbeRoundPingsMembersInByteOrderAndForgetsTheRest() {
        var detector = FailureDetector()
        for peer in ["n3", "n10", "gone", "n2"] { _ = detector.suspect(peer) }
        let members: Set = ["n2", "n3", "n10"]
        let pinged = detector.probeRound(isMember: members.contains)
        #expect(pinged == ["n10", "n2", "n3"])
        #expect(!detector.isSuspected("gone"))
    }

    @Test func forgettingKeepsOnlyMembers() {
        var detector = FailureDetector()
        for peer in ["a", "b"] { _ = detector.suspect(peer) }
        detector.forgetAll(unless: { $0 == "b" })
        #expect(detector.sorted == ["b"])
    }
}
