import Testing

@testable import KvorumCore

@Suite("TimerSet")
struct TimerSetTests {
    @Test func armingAppendsAnEffectAndReArmingRepeatsIt() {
        var timers = TimerSet()
        var effects: [Effect] = []
        timers.arm(.probe, after: 1, effects: &effects)
        timers.arm(.probe, after: 2, effects: &effects)
        #expect(effects == [.setTimer(.probe, after: 1), .setTimer(.probe, after: 2)])
        #expect(timers.isArmed(.probe))
    }

    @Test func armIfIdleLeavesAnArmedTimerAlone() {
        var timers = TimerSet()
        var effects: [Effect] = []
        timers.armIfIdle(.handoff, after: 1, effects: &effects)
        timers.armIfIdle(.handoff, after: 5, effects: &effects)
        #expect(effects == [.setTimer(.handoff, after: 1)])
    }

    @Test func onlyArmedTimersAreCancelled() {
        var timers = TimerSet()
        var effects: [Effect] = []
        timers.cancel(.join, effects: &effects)
        #expect(effects.isEmpty)
        timers.arm(.operation(7), after: 1, effects: &effects)
        timers.cancel(.operation(7), effects: &effects)
        timers.cancel(.operation(7), effects: &effects)
        #expect(effects == [.setTimer(.operation(7), after: 1), .cancelTimer(.operation(7))])
        #expect(!timers.isArmed(.operation(7)))
    }

    @Test func aFiringIsTakenOnceAndOnlyWhenArmed() {
        var timers = TimerSet()
        var effects: [Effect] = []
        let unarmed = timers.fire(.antiEntropy)
        timers.arm(.antiEntropy, after: 1, effects: &effects)
        let armed = timers.fire(.antiEntropy)
        let twice = timers.fire(.antiEntropy)
        #expect(!unarmed && armed && !twice)
    }

    @Test func armedTimersAreListedByName() {
        var timers = TimerSet()
        var effects: [Effect] = []
        for timer in [NodeTimer.viewExchange, .operation(12), .handoff, .probe] {
            timers.arm(timer, after: 1, effects: &effects)
        }
        #expect(timers.sorted == [.handoff, .operation(12), .probe, .viewExchange])
    }

    @Test(arguments: [NodeTimer.probe, .handoff, .join, .antiEntropy, .viewExchange, .operation(0), .operation(.max)])
    func namesRoundTrip(timer: NodeTimer) {
        #expect(NodeTimer(name: timer.name) == timer)
    }

    @Test(arguments: ["", "op:", "op:-1", "op:x", "Probe", "tick", "op:18446744073709551616"])
    func unknownNamesAreRefused(name: String) {
        #expect(NodeTimer(name: name) == nil)
    }
}
