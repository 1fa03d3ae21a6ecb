/// The heartbeat (docs/operations.md, "Cluster status"): liveness without
/// client traffic, bounded in messages.
///
/// Every `heartbeatInterval`, a node pings each member it has not heard from
/// for that long (any message counts as heard), so peers that talk anyway
/// cost nothing extra; a report older than five intervals is refreshed with
/// a ping too. Suspected members are left to the probe, which pings them as
/// often. A node therefore sends at most one ping per member per interval:
/// (members − 1) / interval pings a second. A ping unanswered for
/// `requestTimeout` suspects the peer; a peer silent for `downAfter` is down
/// (and suspected), reported at most `downAfter + heartbeatInterval` after
/// its last message; its first message makes it up again.
extension KvorumNode {
    var heartbeatTiming: PeerLiveness.Timing? {
        config.heartbeatInterval.map {
            PeerLiveness.Timing(interval: $0, requestTimeout: config.requestTimeout, downAfter: config.downAfter)
        }
    }

    func armHeartbeat() {
        guard let interval = config.heartbeatInterval else { return }
        setTimerIfIdle(.heartbeat, after: interval)
    }

    func onHeartbeatTimer() {
        guard let timing = heartbeatTiming else { return }
        let membership = state.membership
        let own = name
        state.liveness.forgetAll { $0 != own && membership.isUp($0) }
        for peer in view.upMembers where peer != name {
            let tick = state.liveness.tick(peer, at: now, suspected: isSuspected(peer), timing: timing)
            if tick.wentDown { observe(.peerDown(peer)) }
            if tick.suspect || tick.wentDown { suspect(peer) }
            if tick.ping { send(.ping, to: peer) }
        }
        setTimer(.heartbeat, after: timing.interval)
    }

    /// Any message from a member: it is alive (and up again if it was down).
    func noteHeard(from peer: String) {
        guard config.heartbeatInterval != nil, peer != name, state.membership.isUp(peer) else { return }
        if state.liveness.heard(from: peer, at: now) { observe(.peerUp(peer)) }
    }

    /// A probe's ping: timed like a heartbeat's, for the round trip.
    func noteProbe(of peer: String) {
        guard config.heartbeatInterval != nil else { return }
        state.liveness.pinged(peer, at: now)
    }

    func onPong(from peer: String, report: PeerReport?) {
        guard config.heartbeatInterval != nil else { return }
        state.liveness.answered(by: peer, at: now, report: report)
    }

    /// The answer to a ping: a report when the heartbeat is on (a node
    /// without it, such as the model checker's, answers a bare pong).
    var pongReport: PeerReport? {
        guard config.heartbeatInterval != nil else { return nil }
        return PeerReport(
            httpAddress: config.httpAddress, records: storage.recordCount, phase: ownPhase,
            hints: state.hints.targets.map { PeerReport.HintCount(target: $0, count: state.hints.count(for: $0)) })
    }

    /// Where this node's own membership stands: joining until a JOIN is
    /// answered (or while it is not a member at all, e.g. refused), leaving
    /// once its entry says it left (it hands its records over; then the
    /// others drop it from their tables), else normal.
    var ownPhase: PeerReport.Phase {
        if state.membership.isUp(name) { return state.membership.joinContact == nil ? .normal : .joining }
        return view.entries[name] == nil ? .joining : .leaving
    }
}
