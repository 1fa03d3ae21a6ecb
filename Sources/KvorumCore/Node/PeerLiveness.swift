/// What the heartbeat knows of each member (docs/operations.md, "Cluster
/// status"): when it was last heard from, the round trip of its last ping,
/// whether it is down, and the last report it sent on a `pong`.
///
/// Only kept while `NodeConfig.heartbeatInterval` is set, so a node without
/// heartbeat (the model checker's) has no times in its state. Times are the
/// core's `now`; the driver's clock never enters.
struct PeerLiveness: Hashable {
    /// One member's record.
    struct Record: Hashable {
        /// When tracking began: the silence of a peer never heard from counts from here.
        var since: Double
        /// When a message from the peer last arrived; nil: never.
        var lastHeard: Double?
        /// When the last ping went out, until an answer measures its round trip.
        var lastPing: Double?
        /// The first ping no message has answered since; a suspicion is due
        /// once it is older than the request timeout.
        var unansweredSince: Double?
        /// The round trip of the last answered ping, in seconds.
        var roundTrip: Double?
        var isDown = false
        /// The last report the peer sent, and when it arrived.
        var report: PeerReport?
        var reportedAt: Double?

        /// A message from the peer arrived at `now`.
        /// - Returns: true if the peer was down until now.
        mutating func heard(at now: Double) -> Bool {
            let wasDown = isDown
            lastHeard = now
            unansweredSince = nil
            isDown = false
            return wasDown
        }
    }

    /// What one heartbeat tick decided for one peer.
    struct Tick: Equatable {
        var ping = false
        /// A ping went unanswered for the request timeout.
        var suspect = false
        /// The peer was silent for `downAfter` and was not down before.
        var wentDown = false
    }

    /// The heartbeat's timing, from `NodeConfig`.
    struct Timing: Equatable {
        var interval: Double
        var requestTimeout: Double
        var downAfter: Double
        /// A report older than this is refreshed with a ping even when the
        /// peer talks anyway.
        var reportAge: Double { interval * 5 }
    }

    private var records: [String: Record] = [:]

    func record(of peer: String) -> Record? { records[peer] }

    /// A message from `peer` arrived at `now`. The record is changed in
    /// place, with one lookup: this runs for every message a node receives.
    /// - Returns: true if the peer was down until now.
    mutating func heard(from peer: String, at now: Double) -> Bool {
        records[peer, default: Record(since: now)].heard(at: now)
    }

    /// `peer` answered a ping with `report` (nil: it sent none).
    mutating func answered(by peer: String, at now: Double, report: PeerReport?) {
        guard var record = records[peer] else { return }
        if let sent = record.lastPing { record.roundTrip = now - sent }
        record.lastPing = nil
        if let report {
            record.report = report
            record.reportedAt = now
        }
        records[peer] = record
    }

    /// A ping to `peer` went out at `now` (from a tick or a probe).
    mutating func pinged(_ peer: String, at now: Double) {
        var record = records[peer] ?? Record(since: now)
        record.lastPing = now
        record.unansweredSince = record.unansweredSince ?? now
        records[peer] = record
    }

    /// One heartbeat tick for `peer`: ping it if it has been silent for an
    /// interval or its report is stale, unless it is `suspected` (the probe
    /// pings those, so a peer never gets two pings per interval); suspect it
    /// when a ping went unanswered; mark it down after `downAfter` of silence.
    mutating func tick(_ peer: String, at now: Double, suspected: Bool, timing: Timing) -> Tick {
        var record = records[peer] ?? Record(since: now)
        var tick = Tick()
        let silence = now - (record.lastHeard ?? record.since)
        if let unanswered = record.unansweredSince, now - unanswered >= timing.requestTimeout {
            tick.suspect = true
        }
        if !record.isDown && silence >= timing.downAfter {
            record.isDown = true
            tick.wentDown = true
        }
        let reportIsStale = record.reportedAt.map { now - $0 >= timing.reportAge } ?? true
        if !suspected && !tick.suspect && (silence >= timing.interval || reportIsStale) {
            tick.ping = true
        }
        records[peer] = record
        if tick.ping { pinged(peer, at: now) }
        return tick
    }

    /// Forgets every peer that is not a member.
    mutating func forgetAll(unless isMember: (String) -> Bool) {
        records = records.filter { isMember($0.key) }
    }

    /// The hints every reporting peer holds for `target`, summed.
    func reportedHints(for target: String) -> Int {
        records.values.reduce(0) { sum, record in
            sum + (record.report?.hints.first { $0.target == target }?.count ?? 0)
        }
    }
}
