import KvorumCore
import Prometheus

/// A change of the membership as this node saw it, the `change` label of
/// `kvorum_membership_changes_total`.
enum MembershipChange: String, CaseIterable {
    /// This node, as a JOIN contact, added a member.
    case joinAccepted = "join_accepted"
    /// This node left (LEAVE).
    case memberLeft = "member_left"
    /// This node took a dead member out of the ring (REMOVE).
    case memberRemoved = "member_removed"
    /// This node's view changed (on every node, for any of the above).
    case viewChanged = "view_changed"
}

/// Counts the core's observations (`KvorumCore.Observation`) as metrics:
/// read repairs, hinted handoff per target, anti-entropy and membership
/// changes. Lives on the node's event loop.
///
/// The per-target families are rendered here (`text(pending:)`), with their
/// HELP and TYPE even before the first hint, so a dashboard's queries name
/// metrics that exist; a target once seen keeps its series (at zero once
/// its hints are handed off).
final class ObservationMetrics {
    private let readRepairs: Counter
    private let readRepairReplicas: Counter
    private let handoffsStarted: Counter
    private let handoffsFinished: Counter
    private let antiEntropyRounds: Counter
    private let antiEntropyKeysSent: Counter
    private let antiEntropyKeysRequested: Counter
    private let antiEntropyKeysRepaired: Counter
    private let membershipChanges: [MembershipChange: Counter]
    private var hintsStored: [String: Int] = [:]
    private var hintsHandedOff: [String: Int] = [:]
    /// Every target hints were ever pending for.
    private var targets: Set<String> = []

    init(registry: PrometheusCollectorRegistry) {
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: ServerMetrics.named(name, help: help))
        }
        readRepairs = counter(
            "kvorum_read_repairs_total", "Reads this node coordinated that found stale replicas and repaired them.")
        readRepairReplicas = counter(
            "kvorum_read_repair_replicas_total",
            "Replicas sent the merged versions by read repair (one per stale "
                + "replica of a read).")
        handoffsStarted = counter(
            "kvorum_handoffs_started_total", "Hinted handoffs begun: a first batch of hinted records sent to a target.")
        handoffsFinished = counter(
            "kvorum_handoffs_finished_total", "Hinted handoffs ended: a target acknowledged the last of its hints.")
        antiEntropyRounds = counter(
            "kvorum_anti_entropy_rounds_total", "Anti-entropy rounds begun: hash-tree tops sent to a peer.")
        antiEntropyKeysSent = counter(
            "kvorum_anti_entropy_keys_sent_total",
            "Keys whose versions anti-entropy sent to a peer that lacked them or held them differently.")
        antiEntropyKeysRequested = counter(
            "kvorum_anti_entropy_keys_requested_total",
            "Keys whose versions anti-entropy asked a peer for, as this node lacked them or held them differently.")
        antiEntropyKeysRepaired = counter(
            "kvorum_anti_entropy_keys_repaired_total", "Keys of this node that records from anti-entropy changed.")
        membershipChanges = ServerMetrics.counters(
            "kvorum_membership_changes_total",
            help: "Membership changes this node made or saw: join_accepted (as a contact), member_left (its own "
                + "LEAVE), member_removed (a REMOVE it carried out), view_changed (any change).",
            label: "change", cases: MembershipChange.self, on: registry)
    }

    func record(_ observation: Observation) {
        switch observation {
        case .peerSuspected, .peerRecovered, .peerDown, .peerUp: break
        case .readRepaired(_, let replicas):
            readRepairs.increment()
            readRepairReplicas.increment(by: Int64(replicas))
        case .hintStored(let target):
            targets.insert(target)
            hintsStored[target, default: 0] += 1
        case .hintsHandedOff(let target, let keys):
            hintsHandedOff[target, default: 0] += keys
        case .handoffStarted: handoffsStarted.increment()
        case .handoffFinished: handoffsFinished.increment()
        case .antiEntropyRound: antiEntropyRounds.increment()
        case .antiEntropyKeysExchanged(let sent, let requested):
            antiEntropyKeysSent.increment(by: Int64(sent))
            antiEntropyKeysRequested.increment(by: Int64(requested))
        case .antiEntropyRepaired(let keys): antiEntropyKeysRepaired.increment(by: Int64(keys))
        case .joinAccepted: membershipChanges[.joinAccepted]!.increment()
        case .memberLeft: membershipChanges[.memberLeft]!.increment()
        case .memberRemoved: membershipChanges[.memberRemoved]!.increment()
        case .viewChanged: membershipChanges[.viewChanged]!.increment()
        }
    }

    /// The per-target hint families in Prometheus text; `pending` is the
    /// node's hints pending per target now.
    func text(pending: [(target: String, count: Int)]) -> String {
        for (target, _) in pending { targets.insert(target) }
        let now = Dictionary(pending.map { ($0.target, $0.count) }, uniquingKeysWith: +)
        let ordered = targets.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        return Self.family(
            "kvorum_hints_pending", type: "gauge",
            help: "Hints this node keeps: records it must still hand to the target node.",
            ordered.map { ($0, now[$0] ?? 0) })
            + Self.family(
                "kvorum_hints_stored_total", type: "counter",
                help: "Hints stored (added or renewed) for the target node: a write it missed, or a record moving "
                    + "to it after a membership change.",
                ordered.map { ($0, hintsStored[$0] ?? 0) })
            + Self.family(
                "kvorum_hints_handed_off_total", type: "counter",
                help: "Hints settled: records the target node acknowledged receiving by hinted handoff.",
                ordered.map { ($0, hintsHandedOff[$0] ?? 0) })
    }

    private static func family(_ name: String, type: String, help: String, _ values: [(String, Int)]) -> String {
        var text = "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for (target, value) in values { text += "\(name){target=\"\(labelValue(target))\"} \(value)\n" }
        return text
    }

    /// A label value escaped as the text format requires.
    static func labelValue(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
