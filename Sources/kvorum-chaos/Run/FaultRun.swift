import Foundation
import KvorumChaos
import KvorumContextToken

/// One fault run: test hosts, a cluster on them, client threads running the
/// workloads while the nemesis applies and heals faults, then a final heal,
/// a wait for convergence, every replica's copy of every key read into the
/// history, and the checker's verdict.
struct FaultRun {
    struct Settings {
        var seconds = 60.0
        var seed: UInt64 = 1
        var workDirectory: String
        var faults = FaultKind.allCases
        var clientsPerWorkload = 2
        var requestTimeout = 2.0
        var convergenceTimeout = 60.0
    }

    /// What the run found.
    struct Outcome {
        var report: CheckReport
        /// Seconds from the final heal until every replica held the same
        /// copies, or nil if they did not within the limit.
        var convergedAfter: Double?
        var faultsApplied: [FaultKind: Int]
        var historyPath: String

        var passed: Bool { report.isValid && convergedAfter != nil }
    }

    let settings: Settings

    /// Runs it, always removing the hosts it made.
    func run(cluster: TestCluster) throws -> Outcome {
        let historyPath = "\(settings.workDirectory)/history.jsonl"
        let recorder = try HistoryRecorder(path: historyPath)
        defer { recorder.close() }
        try cluster.start()
        say(
            "cluster of \(cluster.nodes.count) up on \(cluster.network.prefix).0/24; running for \(settings.seconds) s")

        let keys = KeySpace()
        let deadline = Date().addingTimeInterval(settings.seconds)
        let goOn: @Sendable () -> Bool = { Date() < deadline }
        var clients: [WorkloadClient] = []
        for workload in Workload.allCases {
            for _ in 0..<settings.clientsPerWorkload {
                clients.append(
                    WorkloadClient(
                        process: clients.count + 1, workload: workload, nodes: cluster.nodes, recorder: recorder,
                        keys: keys, seed: settings.seed, timeout: settings.requestTimeout))
            }
        }
        let done = DispatchGroup()
        for client in clients {
            done.enter()
            Thread.detachNewThread {
                client.run(while: goOn)
                done.leave()
            }
        }
        let nemesis = Nemesis(cluster: cluster, recorder: recorder, kinds: settings.faults, seed: settings.seed)
        try nemesis.run(while: goOn)
        done.wait()

        try heal(cluster)
        let healed = Date()
        say("healed; waiting for the replicas to converge")
        let converged = converge(cluster, keys: keys.usedKeys(), recorder: recorder)
        let convergedAfter = converged ? Date().timeIntervalSince(healed) : nil
        return Outcome(
            report: HistoryChecker.check(recorder.recorded), convergedAfter: convergedAfter,
            faultsApplied: nemesis.applied, historyPath: historyPath)
    }

    /// Removes every cut, resumes paused nodes, restarts stopped ones, and
    /// waits until every node lists every member.
    private func heal(_ cluster: TestCluster) throws {
        try cluster.network.healAll()
        for node in cluster.nodes {
            node.resume()
            if !node.isRunning { try node.start(joining: nil) }
        }
        try cluster.waitForMembership(timeout: settings.convergenceTimeout)
    }

    /// Polls every node's local copy of every key until all replicas of each
    /// key hold the same copy (or the limit passes), then records every
    /// node's copy in the history. Returns whether they converged.
    private func converge(
        _ cluster: TestCluster, keys: [(key: String, workload: Workload)], recorder: HistoryRecorder
    ) -> Bool {
        let apis = cluster.nodes.map { $0.api(timeout: settings.requestTimeout) }
        let deadline = Date().addingTimeInterval(settings.convergenceTimeout)
        var replicasOf: [String: [String]] = [:]
        var copies: [FinalRecord] = []
        var converged = false
        while true {
            copies = []
            var divergent = 0
            var unread = 0
            for (key, workload) in keys {
                if replicasOf[key] == nil { replicasOf[key] = apis[0].replicas(of: key) }
                let replicas = replicasOf[key] ?? []
                var seen: Set<[String]> = []
                for (node, api) in zip(cluster.nodes, apis) {
                    let isReplica = replicas.contains(node.name)
                    guard let copy = Self.localCopy(api.local(key)) else {
                        if isReplica { unread += 1 }
                        continue
                    }
                    let record = FinalRecord(
                        key: key, workload: workload, node: node.name, replica: isReplica,
                        values: copy.values, metadata: copy.metadata)
                    copies.append(record)
                    if isReplica {
                        seen.insert(record.signature)
                    }
                }
                if seen.count > 1 || replicas.count != 3 { divergent += 1 }
            }
            if divergent == 0 && unread == 0 {
                converged = true
                break
            }
            guard Date() < deadline else {
                say(
                    "after \(settings.convergenceTimeout) s, \(divergent) keys still differ between replicas"
                        + " and \(unread) replica copies could not be read")
                break
            }
            usleep(500_000)
        }
        for copy in copies { recorder.append(.final(copy)) }
        return converged
    }

    /// A node's local copy, or nil when the node did not answer it.
    private static func localCopy(_ answer: NodeAPI.Answer) -> (values: [String], metadata: [String])? {
        guard case .answered(200, let body, _) = answer else { return nil }
        let tokens = body["metadata"] as? [String] ?? []
        return (body["values"] as? [String] ?? [], tokens.map(ContextToken.historyText))
    }
}

/// Prints a progress line on standard output.
func say(_ text: String) {
    FileHandle.standardOutput.write(Data("kvorum-chaos: \(text)\n".utf8))
}
