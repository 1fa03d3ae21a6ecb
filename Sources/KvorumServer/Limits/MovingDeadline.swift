import NIOCore

/// A connection's deadline (idle, request head) that moves with nearly every
/// request, served by one scheduled wake-up of the event loop.
///
/// Arming for a later deadline keeps the wake-up, which re-arms for what is
/// left when it fires; only an earlier deadline reschedules it. Scheduling
/// and cancelling a task at every request instead was 2–3% of a quorum
/// write's instructions (bench/instructions.sh). Used on its event loop only.
struct MovingDeadline {
    private var deadline: NIODeadline?
    /// The wake-up, never later than `deadline`.
    private var wakeUp: (task: Scheduled<Void>, at: NIODeadline)?

    /// Sets the deadline `seconds` from now. `wake` schedules the wake-up
    /// when one is needed (nil: it cannot, the connection is gone), and
    /// that must call `woke(wake:)` when it runs.
    mutating func arm(after seconds: Double, wake: (NIODeadline) -> Scheduled<Void>?) {
        let deadline = NIODeadline.now() + .nanoseconds(Int64(seconds * 1e9))
        self.deadline = deadline
        if let wakeUp, wakeUp.at <= deadline { return }
        wakeUp?.task.cancel()
        wakeUp = wake(deadline).map { ($0, deadline) }
    }

    /// Clears the deadline; the wake-up, finding none, does nothing.
    mutating func disarm() {
        deadline = nil
    }

    /// Clears the deadline and cancels the wake-up.
    mutating func stop() {
        wakeUp?.task.cancel()
        wakeUp = nil
        deadline = nil
    }

    /// To be called by the wake-up. Returns true when the deadline has
    /// passed (and clears it); schedules the next wake-up through `wake`
    /// while it has not.
    mutating func woke(wake: (NIODeadline) -> Scheduled<Void>?) -> Bool {
        wakeUp = nil
        guard let deadline else { return false }
        guard NIODeadline.now() >= deadline else {
            wakeUp = wake(deadline).map { ($0, deadline) }
            return false
        }
        self.deadline = nil
        return true
    }
}
