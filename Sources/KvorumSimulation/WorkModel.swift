import KvorumCore

/// What handling one event costs a node in virtual time: the node model,
/// beside the network model (`NetworkConfig`).
///
/// A server handles its events one at a time on one thread, and an event
/// that reads a great part of the store (an anti-entropy exchange listing
/// every partition, a start-up) holds up everything behind it: replies to
/// peers come late, peers suspect the node, and client requests wait. Under
/// `free`, the course harness's model, every event takes no time, so the
/// simulator cannot show such a stall (it missed the repair storm in
/// bench/results/2026-12-02-repair-storm.md). Under any other model an
/// event costs `perEvent` plus its rows read and written in the node's
/// `MemoryStorage` (`StorageWork`) at their prices; the node is busy for
/// that long: its messages leave and its timers start when the event ends,
/// and what comes due for it meanwhile waits, in order, until it is free.
/// A client reply is recorded when its event starts (a simplification: the
/// events that answer clients touch a few rows). Work the core does without
/// the store (sorting, merging) is not counted.
public struct WorkModel: Sendable, Equatable {
    /// Seconds every event takes, whatever it does.
    public var perEvent: Double
    /// Seconds per row read from the store.
    public var perRowRead: Double
    /// Seconds per row written to the store.
    public var perRowWritten: Double

    public init(perEvent: Double, perRowRead: Double, perRowWritten: Double) {
        precondition(perEvent >= 0 && perRowRead >= 0 && perRowWritten >= 0, "work takes no negative time")
        self.perEvent = perEvent
        self.perRowRead = perRowRead
        self.perRowWritten = perRowWritten
    }

    /// Every event takes no time (the course harness).
    public static let free = WorkModel(perEvent: 0, perRowRead: 0, perRowWritten: 0)

    /// A node whose store does not fit its memory, so that each row read
    /// is a random read from an SSD (about 0.1 ms) and each row written
    /// a page written back: the store of bench/results/2026-12-02-repair-storm.md
    /// at a million records. Events themselves cost 20 µs, about what a
    /// node spends on one peer message in the profiles under bench/results.
    public static let diskBound = WorkModel(perEvent: 20e-6, perRowRead: 100e-6, perRowWritten: 50e-6)

    /// Whether every event takes no time.
    public var isFree: Bool { perEvent == 0 && perRowRead == 0 && perRowWritten == 0 }

    /// The time an event that did `work` on the store takes.
    public func cost(of work: StorageWork) -> Double {
        perEvent + Double(work.rowsRead) * perRowRead + Double(work.rowsWritten) * perRowWritten
    }
}

/// The longest event a simulation has handled under its `WorkModel`.
public struct LongestEvent: Sendable, Equatable {
    /// The node that handled it.
    public var node: String
    /// When it started, in virtual seconds.
    public var started: Double
    /// How long it took, in virtual seconds.
    public var seconds: Double
}
