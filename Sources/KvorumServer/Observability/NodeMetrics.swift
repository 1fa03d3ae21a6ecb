import Prometheus

/// The node's own gauges and histograms, with their HELP text in the
/// process's registry: its records and store, its group commits, the
/// siblings its reads answer with, its members and its work in flight.
final class NodeMetrics: Sendable {
    static let shared = NodeMetrics(registry: ServerMetrics.registry)

    /// Sibling counts a read may answer with: one (the usual case), a few
    /// (concurrent writes), many (blind writes piling up towards
    /// `--sibling-warning`, 25 by default, and `--sibling-limit`, 100).
    static let siblingBuckets: [Double] = [1, 2, 3, 5, 10, 25, 50, 100]

    let records: Gauge
    let storeBytes: Gauge
    let commitDuration: DurationHistogram
    /// Checkpoints of the store's write-ahead log, and the pages they copied,
    /// by the thread that ran them.
    let checkpoints: [CheckpointThread: Counter]
    let checkpointPages: [CheckpointThread: Counter]
    let readSiblings: ValueHistogram
    let suspectedPeers: Gauge
    let pendingOperations: Gauge
    let members: Gauge

    init(registry: PrometheusCollectorRegistry) {
        func gauge(_ name: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: ServerMetrics.named(name, help: help))
        }
        records = gauge("kvorum_records", "Records (keys, tombstones included) in this node's store.")
        storeBytes = gauge(
            "kvorum_store_size_bytes", "Bytes of this node's store on disk: the SQLite database and its WAL file.")
        commitDuration = registry.makeDurationHistogram(
            descriptor: ServerMetrics.named(
                "kvorum_store_commit_duration_seconds",
                help: "Time to commit one group commit of the store (every change of one event-loop turn)."),
            labels: [], buckets: RequestMetrics.durationBuckets)
        checkpoints = ServerMetrics.counters(
            "kvorum_store_checkpoints_total",
            help: "Checkpoints of the store's write-ahead log: background (off the request path) or writer "
                + "(the last pages, on the node's thread, when the log starts over).",
            label: "thread", cases: CheckpointThread.self, on: registry)
        checkpointPages = ServerMetrics.counters(
            "kvorum_store_checkpoint_pages_total",
            help: "Pages those checkpoints copied from the write-ahead log into the database.",
            label: "thread", cases: CheckpointThread.self, on: registry)
        readSiblings = registry.makeValueHistogram(
            descriptor: ServerMetrics.named(
                "kvorum_read_siblings",
                help: "Versions (siblings, tombstones included) a read answered with; reads that found none are "
                    + "not counted."),
            labels: [], buckets: Self.siblingBuckets)
        suspectedPeers = gauge("kvorum_suspected_peers", "Members this node suspects of being down.")
        pendingOperations = gauge(
            "kvorum_pending_operations", "Operations this node is coordinating (reads, writes, listings).")
        members = gauge("kvorum_members", "Members of the cluster that are up, in this node's view.")
    }
}

/// Where a checkpoint of the store's write-ahead log ran.
enum CheckpointThread: String, CaseIterable {
    /// The checkpointer's own thread.
    case background
    /// The node's thread, inside a commit.
    case writer
}
