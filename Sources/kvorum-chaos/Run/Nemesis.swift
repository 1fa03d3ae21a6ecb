import Foundation
import KvorumChaos

import struct KvorumCore.SplitMix64

/// One fault as applied: its kind, the hosts it hit, and how to undo it.
struct AppliedFault {
    var kind: FaultKind
    var detail: String
    var heal: () throws -> Void
}

/// The seeded nemesis of a fault run: one fault at a time, each held for
/// 2–8 s and then healed, with 1–4 s of calm between faults. The same seed
/// gives the same schedule of kinds, hosts and durations (what the cluster
/// does meanwhile is real time and is not reproduced).
///
/// Faults: one-way and two-way link cuts, a host isolated from its peers
/// (its clients still reach it), a majority/minority split, a bridge
/// partition (two sides that both see one host in the middle), delay,
/// jitter, loss, duplication and reordering on one host's links (the
/// userspace relay), `kill -9` and restart on the same data, SIGSTOP for
/// longer than the request timeout, and a host wiped and brought back as a
/// replacement.
final class Nemesis {
    private let cluster: TestCluster
    private let recorder: HistoryRecorder
    private let kinds: [FaultKind]
    private var random: SplitMix64
    private var nextID = 0
    private(set) var applied: [FaultKind: Int] = [:]

    init(cluster: TestCluster, recorder: HistoryRecorder, kinds: [FaultKind], seed: UInt64) {
        precondition(!kinds.isEmpty, "the nemesis needs at least one kind of fault")
        self.cluster = cluster
        self.recorder = recorder
        self.kinds = kinds
        random = SplitMix64(seed: seed)
    }

    /// Applies and heals faults until `shouldGoOn` says stop; always leaves
    /// the cluster healed.
    func run(while shouldGoOn: () -> Bool) throws {
        while shouldGoOn() {
            try pause(seconds: Double.random(in: 1...4, using: &random), while: shouldGoOn)
            guard shouldGoOn() else { break }
            let kind = kinds[Int.random(in: 0..<kinds.count, using: &random)]
            let hold = Double.random(in: 2...8, using: &random)
            nextID += 1
            let fault = try apply(kind)
            applied[kind, default: 0] += 1
            recorder.append(
                .nemesis(
                    NemesisRecord(time: recorder.now, phase: .start, fault: kind, id: nextID, detail: fault.detail)))
            try pause(seconds: hold, while: shouldGoOn)
            try fault.heal()
            recorder.append(
                .nemesis(NemesisRecord(time: recorder.now, phase: .stop, fault: kind, id: nextID, detail: fault.detail))
            )
        }
    }

    private func pause(seconds: Double, while shouldGoOn: () -> Bool) throws {
        let until = Date().addingTimeInterval(seconds)
        while Date() < until && shouldGoOn() { usleep(50_000) }
    }

    private var hosts: [TestHost] { cluster.network.hosts }

    private func shuffledHosts() -> [TestHost] { hosts.shuffled(using: &random) }

    private func node(_ host: TestHost) -> HostNode { cluster.nodes.first { $0.host == host }! }

    private func names(_ hosts: [TestHost]) -> String { hosts.map(\.name).sorted().joined(separator: " ") }

    private func apply(_ kind: FaultKind) throws -> AppliedFault {
        let cluster = self.cluster
        let network = cluster.network
        switch kind {
        case .linkCutOneWay:
            let pair = shuffledHosts()
            let link = HostLink(from: pair[0], to: pair[1])
            try network.cut(link)
            return AppliedFault(kind: kind, detail: "\(pair[0]) -> \(pair[1])") { try network.heal(link) }
        case .linkCut:
            let pair = shuffledHosts()
            try network.separate([pair[0]], [pair[1]])
            return AppliedFault(kind: kind, detail: "\(pair[0]) <-> \(pair[1])") { try network.healAll() }
        case .isolate:
            let order = shuffledHosts()
            try network.separate([order[0]], Array(order.dropFirst()))
            return AppliedFault(kind: kind, detail: "\(order[0]) | \(names(Array(order.dropFirst())))") {
                try network.healAll()
            }
        case .partitionMajority:
            let order = shuffledHosts()
            let minority = Array(order.prefix((order.count - 1) / 2))
            let majority = Array(order.dropFirst(minority.count))
            try network.separate(minority, majority)
            return AppliedFault(kind: kind, detail: "\(names(majority)) | \(names(minority))") {
                try network.healAll()
            }
        case .partitionBridge:
            let order = shuffledHosts()
            let middle = order[0]
            let rest = Array(order.dropFirst())
            let left = Array(rest.prefix(rest.count / 2))
            let right = Array(rest.dropFirst(left.count))
            try network.separate(left, right)
            return AppliedFault(kind: kind, detail: "\(names(left)) | \(middle) | \(names(right))") {
                try network.healAll()
            }
        case .netem:
            let host = shuffledHosts()[0]
            let parameters = NetemParameters(
                delay: .milliseconds(Int.random(in: 5...150, using: &random)),
                jitter: .milliseconds(Int.random(in: 0...50, using: &random)),
                loss: Double(Int.random(in: 0...20, using: &random)) / 100,
                duplicate: Double(Int.random(in: 0...20, using: &random)) / 100,
                reorder: Double(Int.random(in: 0...30, using: &random)) / 100)
            try cluster.startNetem(on: host, parameters: parameters, seed: random.next())
            return AppliedFault(kind: kind, detail: "\(host): \(parameters.summary)") {
                try cluster.stopNetem(on: host)
            }
        case .kill:
            let victim = node(shuffledHosts()[0])
            victim.kill()
            return AppliedFault(kind: kind, detail: "\(victim.host)") { try victim.start(joining: nil) }
        case .pause:
            let victim = node(shuffledHosts()[0])
            victim.pause()
            return AppliedFault(kind: kind, detail: "\(victim.host)") { victim.resume() }
        case .wipe:
            let order = shuffledHosts()
            let victim = node(order[0])
            let contact = node(order[1])
            let dead = victim.name
            victim.kill()
            try victim.wipe()
            if let refusal = contact.api(timeout: 5).remove(dead) {
                throw KitError.failed("\(contact.name) would not remove \(dead): \(refusal)")
            }
            return AppliedFault(kind: kind, detail: "\(dead) wiped, removed at \(contact.name), replaced") {
                try victim.startAsReplacement(joining: contact)
            }
        }
    }
}
