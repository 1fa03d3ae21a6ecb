import KvorumCore
import NIOCore
import Testing

@testable import KvorumServer

/// The server node's timers: what is set fires once, at its deadline, in
/// deadline order; what is cancelled or reset does not fire as it was.
struct TimerQueueTests {
    private static func at(_ milliseconds: Int64) -> NIODeadline {
        .uptimeNanoseconds(UInt64(milliseconds) * 1_000_000)
    }

    @Test func timersFireInDeadlineOrderAndTiesInTheOrderSet() {
        var queue = TimerQueue()
        queue.set(.operation(1), at: Self.at(30))
        queue.set(.probe, at: Self.at(10))
        queue.set(.operation(2), at: Self.at(30))
        queue.set(.heartbeat, at: Self.at(20))
        #expect(queue.nextDeadline() == Self.at(10))
        #expect(queue.removeFirstDue(at: Self.at(9)) == nil)
        var fired: [NodeTimer] = []
        while let timer = queue.removeFirstDue(at: Self.at(30)) { fired.append(timer) }
        #expect(fired == [.probe, .heartbeat, .operation(1), .operation(2)])
        #expect(queue.nextDeadline() == nil && !queue.isSet(.probe))
    }

    @Test func cancelledAndResetTimersDoNotFireAsTheyWere() {
        var queue = TimerQueue()
        queue.set(.operation(1), at: Self.at(10))
        queue.set(.antiEntropy, at: Self.at(20))
        queue.cancel(.operation(1))
        queue.set(.antiEntropy, at: Self.at(50))
        #expect(queue.nextDeadline() == Self.at(50))
        #expect(queue.removeFirstDue(at: Self.at(40)) == nil)
        #expect(queue.removeFirstDue(at: Self.at(50)) == .antiEntropy)
        #expect(queue.removeFirstDue(at: Self.at(1000)) == nil)
        queue.set(.reap, at: Self.at(60))
        queue.removeAll()
        #expect(queue.nextDeadline() == nil)
    }

    /// Random sets, cancels and steps of time give what a table of live
    /// timers gives (each fires once, at its last deadline, earliest
    /// first, ties in the order set).
    @Test func randomUseMatchesATableOfTimers() {
        var random = SplitMix64(seed: 5)
        var queue = TimerQueue()
        var table: [NodeTimer: (deadline: Int64, order: Int)] = [:]
        var order = 0
        var now: Int64 = 0
        for _ in 0..<5_000 {
            let timer = NodeTimer.operation(random.next() % 20)
            switch random.next() % 4 {
            case 0, 1:
                order += 1
                let deadline = now + Int64(random.next() % 50)
                queue.set(timer, at: Self.at(deadline))
                table[timer] = (deadline, order)
            case 2:
                queue.cancel(timer)
                table[timer] = nil
            default:
                now += Int64(random.next() % 30)
                var fired: [NodeTimer] = []
                while let due = queue.removeFirstDue(at: Self.at(now)) { fired.append(due) }
                let expected = table.filter { $0.value.deadline <= now }
                    .sorted { ($0.value.deadline, $0.value.order) < ($1.value.deadline, $1.value.order) }.map(\.key)
                #expect(fired == expected)
                for timer in expected { table[timer] = nil }
            }
            #expect(queue.nextDeadline() == table.values.map(\.deadline).min().map(Self.at))
        }
    }
}
