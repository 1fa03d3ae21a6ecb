/// What a node tells a peer about itself on the heartbeat's answer (a
/// `pong`), for the cluster status table (docs/operations.md, "Cluster
/// status"): facts only the node itself knows. Small: a few strings and
/// one count per hint target.
public struct PeerReport: Hashable, Sendable, Codable {
    /// Where the node's own membership stands.
    public enum Phase: UInt8, Hashable, Sendable, Codable {
        /// A member that coordinates and replicates.
        case normal = 0
        /// Asking its contact to join; not yet answered with a view.
        case joining = 1
        /// Left the ring and still handing its records to their new replicas.
        case leaving = 2
    }

    /// How many hints the sender holds for one target.
    public struct HintCount: Hashable, Sendable, Codable {
        public var target: String
        public var count: Int

        public init(target: String, count: Int) {
            self.target = target
            self.count = count
        }
    }

    /// The sender's HTTP API address (`host:port`), if it has one.
    public var httpAddress: String?
    /// How many records the sender stores.
    public var records: Int
    public var phase: Phase
    /// The hints the sender holds, per target, in byte order of the target.
    public var hints: [HintCount]

    public init(httpAddress: String?, records: Int, phase: Phase, hints: [HintCount]) {
        self.httpAddress = httpAddress
        self.records = records
        self.phase = phase
        self.hints = hints
    }
}
