import Foundation
import KvorumClient
import KvorumTestKit
import Testing

/// The metrics an operator reads (docs/operations.md "Metrics"), each
/// moved by real `kvorum node` processes doing what it counts, and the
/// whole `/metrics` text read by Prometheus's own parser.
@Suite(.serialized)
struct MetricsProcessTests {
    /// One node (quorums of 1): a PUT, a GET, a GET of a missing key, a DELETE, a listing
    /// and a malformed GET each add one to their `op`/`outcome` series and
    /// to its duration histogram, whose buckets resolve 50 µs to 10 s. Two
    /// blind writes of one key make a read of two siblings; the store has
    /// bytes and commits. Prometheus's parser reads the text, every family
    /// has HELP and appears once; every metric the Grafana dashboard
    /// queries exists.
    @Test(.timeLimit(.minutes(2)))
    func requestsAreCountedByOperationAndOutcome() async throws {
        let cluster = try await LocalCluster.start(nodes: 1)
        defer { cluster.shutdown() }
        let node = cluster.nodes[0]
        let client = node.client()
        let before = try await MetricsScrape.of(node)

        _ = try await client.put("counted", value: "v1", w: 1)
        _ = try await client.get("counted", r: 1)
        #expect(try await client.get("missing", r: 1).found == false)
        _ = try await client.delete("counted", w: 1)
        _ = try await client.send(.keys(prefix: nil, after: nil, limit: 10))
        let bad = try RawConnection.http(
            port: node.httpPort, Array("GET /kv/counted?r=many HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        #expect(bad.status == 400)

        let after = try await MetricsScrape.of(node)
        let requests = "kvorum_client_requests_total"
        for (op, outcome) in [
            ("put", "ok"), ("get", "ok"), ("get", "not_found"), ("delete", "ok"), ("list", "ok"),
            ("get", "bad_request"),
        ] {
            let labels = ["op": op, "outcome": outcome]
            #expect(after.value(requests, labels) - before.value(requests, labels) == 1, "\(labels)")
            let count = "kvorum_client_request_duration_seconds_count"
            #expect(after.value(count, labels) - before.value(count, labels) == 1, "\(labels)")
        }
        let bounds = after.samples.keys.filter {
            $0.name == "kvorum_client_request_duration_seconds_bucket" && $0.labels["op"] == "get"
                && $0.labels["outcome"] == "ok"
        }.compactMap { $0.labels["le"].flatMap(Double.init) }
        #expect(bounds.contains(0.00005) && bounds.contains(0.0001) && bounds.contains(0.001) && bounds.contains(10))

        _ = try await client.put("twins", value: "a", w: 1)
        _ = try await client.put("twins", value: "b", w: 1)
        #expect(try await client.get("twins", r: 1).values.sorted() == ["a", "b"])
        let reads = try await MetricsScrape.of(node)
        #expect(reads.value("kvorum_read_siblings_count") >= 2)
        #expect(reads.value("kvorum_read_siblings_bucket", ["le": "1.0"]) < reads.value("kvorum_read_siblings_count"))
        #expect(reads.value("kvorum_read_siblings_bucket", ["le": "2.0"]) == reads.value("kvorum_read_siblings_count"))
        #expect(reads.value("kvorum_store_size_bytes") > 0)
        for thread in ["background", "writer"] {
            #expect(reads.text.contains("kvorum_store_checkpoints_total{thread=\"\(thread)\"}"))
            #expect(reads.text.contains("kvorum_store_checkpoint_pages_total{thread=\"\(thread)\"}"))
        }
        #expect(
            reads.value("kvorum_store_commit_duration_seconds_count")
                > before.value(
                    "kvorum_store_commit_duration_seconds_count"))
        #expect(reads.value("kvorum_records") >= 2)

        let families = try PrometheusParser.parse(reads.text)
        #expect(families.count == reads.families.count, "\(families.map(\.name))")
        #expect(families.filter { !$0.hasHelp }.map(\.name) == [])
        #expect(reads.families.subtracting(reads.documented).sorted() == [])
        // The parser merges a family given twice; Prometheus refuses it.
        #expect(reads.text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.count == reads.families.count)

        let queried = try DashboardQueries.metricNames()
        #expect(queried.count >= 10, "\(queried)")
        let histograms = reads.families.filter { reads.text.contains("# TYPE \($0) histogram") }
        let missing = queried.filter { name in
            let base = ["_bucket", "_count", "_sum"].first { name.hasSuffix($0) }.map { name.dropLast($0.count) }
            return !reads.families.contains(name) && !(base.map { histograms.contains(String($0)) } ?? false)
        }
        #expect(missing.sorted() == [], "the dashboard queries metrics the node does not export")
    }

    /// Four nodes with a short handoff interval; node4 is killed and writes
    /// go on, so stand-ins keep hints for it: `kvorum_hints_stored_total`
    /// and `kvorum_hints_pending` for target node4 rise. node4 comes back:
    /// the hints are handed off (`kvorum_hints_handed_off_total`, a handoff
    /// started and finished) and pending drops to zero. The joins at the
    /// start were counted at node1, the contact.
    @Test(.timeLimit(.minutes(3)))
    func hintsAreStoredHandedOffAndDrained() async throws {
        let cluster = try await LocalCluster.start(nodes: 4, nodeArguments: ["--handoff-interval", "0.5"])
        defer { cluster.shutdown() }
        let (node1, target) = (cluster.nodes[0], cluster.nodes[3])
        let joins = try await MetricsScrape.of(node1)
        #expect(joins.value("kvorum_membership_changes_total", ["change": "join_accepted"]) == 3)
        #expect(joins.value("kvorum_membership_changes_total", ["change": "view_changed"]) >= 3)

        cluster.kill9(target)
        let running = Array(cluster.nodes.prefix(3))
        func total(_ name: String) async throws -> Double {
            var sum = 0.0
            for node in running { sum += try await MetricsScrape.of(node).sum(name, where: ["target": target.name]) }
            return sum
        }
        for i in 0..<16 { _ = try await running[i % 3].client().put("hinted-\(i)", value: "v\(i)", w: 2) }
        try await cluster.waitUntil("hints for \(target) are pending", timeout: 20) {
            try await total("kvorum_hints_pending") > 0
        }
        #expect(try await total("kvorum_hints_stored_total") > 0)
        #expect(try await total("kvorum_hints_handed_off_total") == 0)

        try await cluster.restart(target)
        try await cluster.waitUntil("the hints for \(target) are handed off", timeout: 30) {
            let pending = try await total("kvorum_hints_pending")
            let handedOff = try await total("kvorum_hints_handed_off_total")
            return pending == 0 && handedOff > 0
        }
        var started = 0.0
        var finished = 0.0
        for node in running {
            let scrape = try await MetricsScrape.of(node)
            started += scrape.value("kvorum_handoffs_started_total")
            finished += scrape.value("kvorum_handoffs_finished_total")
        }
        #expect(started >= 1 && finished >= 1)
    }

    /// Three nodes whose hinted handoff and anti-entropy wait an hour: a
    /// write while node3 is down leaves node3 stale (the coordinator's hint
    /// for it stays put); once it is back, a read with r=3 repairs it,
    /// counted by the coordinator's `kvorum_read_repairs_total`.
    @Test(.timeLimit(.minutes(2)))
    func aStaleReplicaIsReadRepaired() async throws {
        let cluster = try await LocalCluster.start(
            nodes: 3, nodeArguments: ["--anti-entropy-interval", "3600", "--handoff-interval", "3600"])
        defer { cluster.shutdown() }
        let (node1, stale) = (cluster.nodes[0], cluster.nodes[2])
        let old = try await node1.client().put("repaired", value: "old", w: 3)
        cluster.kill9(stale)
        _ = try await node1.client().put("repaired", value: "new", w: 2, context: old)
        // Suspected: the write to it timed out, and so did its queued copy.
        try await cluster.waitUntil("\(node1) suspects \(stale)", timeout: 10) {
            try await node1.client().stats().suspectedPeers?.contains(stale.name) == true
        }
        try await cluster.restart(stale)
        #expect(try await stale.client().localCopy("repaired").values == ["old"])
        let before = try await MetricsScrape.of(node1).value("kvorum_read_repairs_total")
        try await cluster.waitUntil("a read with r=3 at \(node1) succeeds", timeout: 20) {
            try await node1.client().get("repaired", r: 3).values == ["new"]
        }
        try await cluster.waitUntil("\(node1) counts a read repair", timeout: 10) {
            try await MetricsScrape.of(node1).value("kvorum_read_repairs_total") > before
        }
        #expect(try await MetricsScrape.of(node1).value("kvorum_read_repair_replicas_total") >= 1)
        try await cluster.waitUntil("\(stale) holds the repaired value", timeout: 10) {
            try await stale.client().localCopy("repaired").values == ["new"]
        }
    }

    /// Three nodes with anti-entropy every 0.3 s: rounds are counted on
    /// every node; writes that node3 missed while it was down (no reads,
    /// and the coordinator's hints for node3 wait an hour) reach it by
    /// anti-entropy, counted as keys sent or requested and keys repaired.
    @Test(.timeLimit(.minutes(2)))
    func antiEntropyRoundsAndRepairsAreCounted() async throws {
        let cluster = try await LocalCluster.start(
            nodes: 3, nodeArguments: ["--anti-entropy-interval", "0.3", "--handoff-interval", "3600"])
        defer { cluster.shutdown() }
        let stale = cluster.nodes[2]
        try await cluster.waitUntil("every node has begun anti-entropy rounds", timeout: 10) {
            for node in cluster.nodes
            where try await MetricsScrape.of(node).value(
                "kvorum_anti_entropy_rounds_total") == 0
            {
                return false
            }
            return true
        }
        cluster.kill9(stale)
        for i in 0..<8 { _ = try await cluster.nodes[0].client().put("entropy-\(i)", value: "v\(i)", w: 2) }
        try await cluster.waitUntil("\(cluster.nodes[0]) suspects \(stale)", timeout: 10) {
            try await cluster.nodes[0].client().stats().suspectedPeers?.contains(stale.name) == true
        }
        try await cluster.restart(stale)
        try await cluster.waitUntil("\(stale) is repaired by anti-entropy", timeout: 30) {
            for i in 0..<8 where try await stale.client().localCopy("entropy-\(i)").values != ["v\(i)"] {
                return false
            }
            return true
        }
        var exchanged = 0.0
        var repaired = 0.0
        for node in cluster.nodes {
            let scrape = try await MetricsScrape.of(node)
            exchanged +=
                scrape.value("kvorum_anti_entropy_keys_sent_total")
                + scrape.value("kvorum_anti_entropy_keys_requested_total")
            repaired += scrape.value("kvorum_anti_entropy_keys_repaired_total")
        }
        #expect(exchanged >= 1 && repaired >= 1, "exchanged \(exchanged), repaired \(repaired)")
    }
}

/// The metric names the Grafana dashboard's queries use.
enum DashboardQueries {
    static let file = Paths.repository.appendingPathComponent("deploy/grafana/kvorum-dashboard.json")

    static func metricNames() throws -> Set<String> {
        let dashboard = try JSONSerialization.jsonObject(with: Data(contentsOf: file))
        var names: Set<String> = []
        func visit(_ value: Any) {
            if let object = value as? [String: Any] {
                for (key, field) in object {
                    if key == "expr", let query = field as? String {
                        let pattern = try! Regex("kvorum_[a-z0-9_]+")
                        for match in query.matches(of: pattern) { names.insert(String(query[match.range])) }
                    } else {
                        visit(field)
                    }
                }
            } else if let array = value as? [Any] {
                array.forEach(visit)
            }
        }
        visit(dashboard)
        return names
    }
}
