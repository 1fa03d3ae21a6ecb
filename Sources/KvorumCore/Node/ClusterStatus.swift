/// A member's state in the status table (docs/operations.md, "Cluster status").
public enum MemberState: String, Hashable, Sendable, CaseIterable {
    /// Heard from within `downAfter` and not suspected (or this node itself).
    case up
    /// A request or ping to it went unanswered; coordinators skip it.
    case suspected
    /// Not heard from for `NodeConfig.downAfter` seconds.
    case down
    /// Asking to join, not yet answered with a view (as it reported); for
    /// the node itself also while it is no member at all (a refused JOIN).
    case joining
    /// Left the ring and handing its records over (as it reported, or the
    /// node itself once it left).
    case leaving
}

/// One row of the status table: a member as this node sees it. Fields the
/// node does not know (a peer that never reported) are nil.
public struct MemberStatus: Hashable, Sendable {
    public var name: String
    public var state: MemberState
    /// The peer (ring) address.
    public var address: String
    public var httpAddress: String?
    public var records: Int?
    /// Hints held anywhere in the cluster for this member, as reported
    /// (this node's own, plus every peer's last report).
    public var hintsPending: Int
    /// The share of the ring's partitions this member is the primary
    /// (first replica) of; the shares of all members sum to 1.
    public var ringShare: Double
    /// Seconds since the last message from it (0 for this node; nil: never).
    public var lastHeardSeconds: Double?
    /// The round trip of its last answered ping, in seconds.
    public var roundTripSeconds: Double?
    public var isSelf: Bool
}

/// Whether a node can coordinate requests (`/ready`).
public enum Readiness: Hashable, Sendable {
    case ready
    case notReady(reason: String)
}

extension KvorumNode {
    /// The cluster as this node sees it at `time` (the driver's clock,
    /// which may have moved on since the last event), sorted by name: every
    /// member whose entry is up, and this node itself whatever its state.
    public func clusterStatus(at time: Double) -> [MemberStatus] {
        let shares = primaryShares
        return view.sorted.filter { $0.status == .up || $0.name == name }.map { entry in
            let isSelf = entry.name == name
            let record = state.liveness.record(of: entry.name)
            let report = record?.report
            let ownHints = state.hints.count(for: entry.name)
            return MemberStatus(
                name: entry.name, state: isSelf ? ownState : peerState(entry.name, record: record),
                address: entry.address, httpAddress: isSelf ? config.httpAddress : report?.httpAddress,
                records: isSelf ? storage.recordCount : report?.records,
                hintsPending: ownHints + state.liveness.reportedHints(for: entry.name),
                ringShare: shares[entry.name] ?? 0,
                lastHeardSeconds: isSelf ? 0 : record?.lastHeard.map { max(0, time - $0) },
                roundTripSeconds: isSelf ? nil : record?.roundTrip, isSelf: isSelf)
        }
    }

    /// Whether this node can coordinate: a member of a ring, not joining,
    /// not left, not refused.
    public var readiness: Readiness {
        if let contact = state.membership.joinContact {
            return .notReady(reason: "node \(name) is joining through \(contact)")
        }
        if let refusal = state.membership.joinRefusal {
            return .notReady(reason: "node \(name) was refused as a member: \(refusal)")
        }
        guard state.membership.isUp(name) else {
            return .notReady(
                reason: view.entries[name] == nil ? "node \(name) is not a member" : "node \(name) has left the ring")
        }
        guard !ring.isEmpty else { return .notReady(reason: "node \(name) has no ring") }
        return .ready
    }

    private var ownState: MemberState {
        switch ownPhase {
        case .joining: .joining
        case .leaving: .leaving
        case .normal: .up
        }
    }

    private func peerState(_ peer: String, record: PeerLiveness.Record?) -> MemberState {
        if record?.isDown == true { return .down }
        if isSuspected(peer) { return .suspected }
        switch record?.report?.phase {
        case .joining: return .joining
        case .leaving: return .leaving
        case .normal, nil: return .up
        }
    }

    /// Each member's share of the partitions it is the primary of.
    private var primaryShares: [String: Double] {
        guard !ring.isEmpty else { return [:] }
        var owned: [String: Int] = [:]
        for partition in 0..<ring.partitionCount {
            if let owner = ring.replicas(forPartition: partition, n: 1).first { owned[owner, default: 0] += 1 }
        }
        return owned.mapValues { Double($0) / Double(ring.partitionCount) }
    }
}
