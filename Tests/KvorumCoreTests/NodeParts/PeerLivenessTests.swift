import Testing

@testable import KvorumCore

@Suite("PeerLiveness")
struct PeerLivenessTests {
    let timing = PeerLiveness.Timing(interval: 1, requestTimeout: 0.5, downAfter: 5)

    @Test func aSilentPeerIsPingedSuspectedThenDownAndUpAtItsFirstMessage() {
        var liveness = PeerLiveness()
        #expect(liveness.heard(from: "b", at: 0) == false)
        liveness.answered(by: "b", at: 0, report: PeerReport(httpAddress: nil, records: 1, phase: .normal, hints: []))
        #expect(liveness.tick("b", at: 0.5, suspected: false, timing: timing) == .init())
        #expect(liveness.tick("b", at: 1.5, suspected: false, timing: timing) == .init(ping: true))
        #expect(liveness.tick("b", at: 2.5, suspected: false, timing: timing) == .init(suspect: true))
        // Suspected: the probe pings it, the heartbeat does not.
        #expect(liveness.tick("b", at: 3.5, suspected: true, timing: timing) == .init(suspect: true))
        #expect(liveness.tick("b", at: 5.0, suspected: true, timing: timing) == .init(suspect: true, wentDown: true))
        #expect(liveness.record(of: "b")?.isDown == true)
        #expect(liveness.tick("b", at: 6.0, suspected: true, timing: timing) == .init(suspect: true))
        #expect(liveness.heard(from: "b", at: 6.2) == true)
        #expect(liveness.record(of: "b")?.isDown == false)
        #expect(liveness.record(of: "b")?.unansweredSince == nil)
    }

    @Test func aPeerHeardWithinTheIntervalIsNotPingedUntilItsReportIsStale() {
        var liveness = PeerLiveness()
        _ = liveness.heard(from: "b", at: 0)
        liveness.answered(by: "b", at: 0, report: PeerReport(httpAddress: nil, records: 0, phase: .normal, hints: []))
        for second in 1..<5 {
            _ = liveness.heard(from: "b", at: Double(second) - 0.1)
            #expect(liveness.tick("b", at: Double(second), suspected: false, timing: timing).ping == false)
        }
        _ = liveness.heard(from: "b", at: 4.9)
        #expect(liveness.tick("b", at: 5, suspected: false, timing: timing).ping)
    }

    @Test func aPongMeasuresTheRoundTripOfTheLastPingAndKeepsTheReport() {
        var liveness = PeerLiveness()
        liveness.pinged("b", at: 1)
        let report = PeerReport(
            httpAddress: "h:1", records: 3, phase: .leaving, hints: [.init(target: "c", count: 2)])
        _ = liveness.heard(from: "b", at: 1.004)
        liveness.answered(by: "b", at: 1.004, report: report)
        #expect(abs((liveness.record(of: "b")?.roundTrip ?? 0) - 0.004) < 1e-9)
        #expect(liveness.record(of: "b")?.report == report)
        #expect(liveness.reportedHints(for: "c") == 2)
        // A second pong for the same ping measures nothing new.
        liveness.answered(by: "b", at: 2, report: nil)
        #expect(abs((liveness.record(of: "b")?.roundTrip ?? 0) - 0.004) < 1e-9)
        liveness.forgetAll { $0 != "b" }
        #expect(liveness.record(of: "b") == nil)
    }
}
