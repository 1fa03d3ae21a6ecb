/// One broken invariant, explained.
public struct CampaignViolation: Sendable, Equatable, CustomStringConvertible {
    /// Which invariant: `lost-write`, `convergence`, `false-siblings`, `cart`,
    /// `unique-dots`, `at-most-once`, `ring`, `liveness`, `setup`, and `replay`
    /// (a failed seed run again with its trace on ended otherwise).
    public var invariant: String
    /// What was expected and what was found, with keys, nodes and metadata.
    public var message: String

    public init(_ invariant: String, _ message: String) {
        self.invariant = invariant
        self.message = message
    }

    public var description: String { "[\(invariant)] \(message)" }
}

/// Counts of what a campaign did.
public struct CampaignStatistics: Sendable, Equatable {
    public var nodes = 0
    public var operations = 0
    public var getsAnswered = 0
    public var getsFailed = 0
    public var writesAcknowledged = 0
    public var writesFailed = 0
    /// Writes whose node crashed before it replied.
    public var writesLost = 0
    /// DELETEs sent (counted in the writes too).
    public var deletes = 0
    /// `reap` messages sent: tombstones removed at a replica other than their checker.
    public var reapMessages = 0
    /// Faults injected, by kind, in `FaultKind` order.
    public var faults: [(kind: String, count: Int)] = []
    /// Virtual time when the faults stopped.
    public var workloadEnd: Double = 0
    /// Virtual time when the invariants were checked.
    public var end: Double = 0
    public var events = 0
    public var messages = 0

    public static func == (a: CampaignStatistics, b: CampaignStatistics) -> Bool {
        a.summary == b.summary
    }

    /// One line: `6 nodes, 24 ops: 9 gets (1 failed), 20 writes acked, …`.
    public var summary: String {
        var text = "\(nodes) nodes, \(operations) ops: gets \(getsAnswered) ok / \(getsFailed) failed, "
        text += "writes \(writesAcknowledged) acked / \(writesFailed) failed / \(writesLost) lost"
        text += " (\(deletes) deletes, \(reapMessages) reaps); faults "
        let injected = faults.filter { $0.count > 0 }
        text += injected.isEmpty ? "none" : injected.map { "\($0.kind)×\($0.count)" }.joined(separator: " ")
        text += "; faults end \(TraceFormat.seconds(workloadEnd)) s, checked \(TraceFormat.seconds(end)) s"
        text += ", \(events) events, \(messages) messages"
        return text
    }
}

/// The outcome of one campaign.
public struct CampaignResult: Sendable {
    public var seed: UInt64
    public var violations: [CampaignViolation]
    public var statistics: CampaignStatistics
    /// The last `CampaignConfig.traceTail` lines of the trace.
    public var traceTail: [String]
    /// The whole trace: the campaign's own, or under
    /// `CampaignTrace.replayOnFailure` that of the failed campaign's replay
    /// (empty when the campaign passed).
    public var trace: [String]

    public var passed: Bool { violations.isEmpty }

    /// The seed, every violation and the tail of the trace, as text.
    public var report: String {
        var lines = ["seed \(seed): \(violations.count) violation(s); \(statistics.summary)"]
        lines += violations.map { "  " + $0.description }
        lines.append("--- last \(traceTail.count) trace lines ---")
        lines += traceTail
        return lines.joined(separator: "\n")
    }
}
