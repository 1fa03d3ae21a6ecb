import HeapModule
import KvorumCore
import NIOCore

/// The core's timers as a server node keeps them: a heap of deadlines the
/// node serves with one scheduled wake-up of its event loop (`nextDeadline`),
/// instead of a scheduled task per timer.
///
/// A coordinated operation sets a timer and almost always cancels it a
/// fraction of a millisecond later; scheduling and cancelling a task on the
/// event loop for each was about 2.5% of a quorum write's instructions.
/// Here setting is a heap insertion and cancelling forgets the timer: its
/// entry stays in the heap, marked stale, until it reaches the top.
///
/// Setting a timer that is set replaces it, as `Effect.setTimer` says.
/// Timers due at the same moment come out in the order they were set.
struct TimerQueue {
    private struct Entry: Comparable {
        var deadline: NIODeadline
        /// Which setting of `timer` this is; only the latest is live.
        var sequence: UInt64
        var timer: NodeTimer

        static func < (a: Entry, b: Entry) -> Bool {
            a.deadline != b.deadline ? a.deadline < b.deadline : a.sequence < b.sequence
        }

        static func == (a: Entry, b: Entry) -> Bool { a.sequence == b.sequence }
    }

    private var heap = Heap<Entry>()
    /// Each set timer and the sequence of its live entry.
    private var live: [NodeTimer: UInt64] = [:]
    private var lastSequence: UInt64 = 0

    /// Sets `timer` to fire at `deadline`, replacing any earlier setting.
    mutating func set(_ timer: NodeTimer, at deadline: NIODeadline) {
        lastSequence += 1
        live[timer] = lastSequence
        heap.insert(Entry(deadline: deadline, sequence: lastSequence, timer: timer))
    }

    /// Cancels `timer`; nothing if it is not set.
    mutating func cancel(_ timer: NodeTimer) {
        live[timer] = nil
    }

    /// Whether `timer` is set.
    func isSet(_ timer: NodeTimer) -> Bool { live[timer] != nil }

    /// The earliest deadline of a set timer; nil when none is set. Drops
    /// the stale entries above it.
    mutating func nextDeadline() -> NIODeadline? {
        nextEntry()?.deadline
    }

    /// Removes and returns the earliest set timer if it is due at `now`.
    /// One at a time: handling a timer may cancel or reset another that is
    /// due too, which then must not fire.
    mutating func removeFirstDue(at now: NIODeadline) -> NodeTimer? {
        guard let first = nextEntry(), first.deadline <= now else { return nil }
        heap.removeMin()
        live[first.timer] = nil
        return first.timer
    }

    /// Forgets every timer.
    mutating func removeAll() {
        heap = Heap()
        live = [:]
    }

    private mutating func nextEntry() -> Entry? {
        dropStale()
        return heap.min
    }

    private mutating func dropStale() {
        while let first = heap.min, live[first.timer] != first.sequence {
            heap.removeMin()
        }
    }
}
