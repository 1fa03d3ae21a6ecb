/// A node's identity and tuning. Times are in seconds.
public struct NodeConfig: Sendable, Equatable {
    public var name: String
    public var address: Address
    /// The node's stable identity, distinct from its name: a server makes
    /// one at random when it first starts and keeps it in its data
    /// directory, so a second process started under an existing member's
    /// name is refused while the genuine node may come back on a new
    /// address. Defaults to a hash of the name (the simulator and the
    /// stdio bridge, where names are unique).
    public var identity: UInt64
    /// N: how many replicas each key has (docs/protocol.md: 3).
    public var replicationFactor = 3
    /// Virtual nodes (equal partitions) on the ring.
    public var partitionCount = NodeConfig.defaultPartitionCount
    /// The partitions of a server's ring (its stores are kept for this count).
    public static let defaultPartitionCount = 4096
    /// How long a coordinator waits for a replica before suspecting it and
    /// turning to the next stand-in.
    public var requestTimeout = 0.3
    /// How long a forwarder waits for the result of a write it handed to a
    /// replica; then it answers that the write may still be applied.
    public var forwardResultTimeout = 5.0
    /// How long a coordinator keeps trying to reach its quorum before it
    /// answers the client with an error.
    public var operationDeadline = 8.0
    /// How often suspected peers are probed.
    public var probeInterval = 1.0
    /// How often a node pings each member it has not heard from for that
    /// long (any message counts), so that a crashed peer is noticed without
    /// client traffic; nil turns the heartbeat off (the simulator's and the
    /// model checker's default: it adds no events there unless a test asks).
    /// A ping unanswered after `requestTimeout` suspects the peer.
    public var heartbeatInterval: Double? = nil
    /// A member not heard from for this long is *down* (docs/operations.md):
    /// with the heartbeat on, a crashed peer is reported down at most
    /// `downAfter + heartbeatInterval` seconds after its last message.
    public var downAfter = 5.0
    /// The node's HTTP API address (`host:port`), which it reports to its
    /// peers for their status tables; nil when it has none.
    public var httpAddress: String? = nil
    /// How often pending hints are retried.
    public var handoffInterval = 1.0
    /// How long to wait for a JOIN contact before asking again.
    public var joinRetryInterval = 1.0
    /// How often a node starts an anti-entropy exchange with one peer
    /// (Dynamo §4.7); nil turns anti-entropy off.
    public var antiEntropyInterval: Double? = 10
    /// About how many keys one anti-entropy exchange compares, at the tree's
    /// average keys per partition: when more partitions differ (after a
    /// replica was away while writes went on), the rest wait for later
    /// rounds, in turn. Listing a partition's key digests reads the store on
    /// the node's thread; with a million keys, every partition at once is
    /// seconds of reads, long enough for peers to suspect the node.
    public var antiEntropyKeyBudget = 2048
    /// How often a member sends its view digest to one other member, in
    /// turn, so that a lost membership change is repaired even when no
    /// other traffic flows; nil turns the exchange off.
    public var viewExchangeInterval: Double? = 5
    /// Records per handoff or anti-entropy message.
    public var handoffBatchSize = 64
    /// Client requests a node coordinates at once; more are refused.
    public var maxPendingRequests = 10_000
    /// Forwarded writes a replica remembers having coordinated, so that a
    /// `forwardPut` delivered twice is executed once (the oldest are forgotten
    /// first).
    public var forwardLedgerCapacity = 4096
    /// Pending hints a node keeps; past this, writes still succeed but the
    /// stand-in refuses to take more hints (the write falls to the next one).
    public var maxHints = 100_000
    /// How many versions one key may gather from client writes.
    public var siblings = SiblingBounds()
    /// When tombstones are removed.
    public var reaping = Reaping()

    public init(name: String, address: Address) {
        self.name = name
        self.address = address
        identity = StableHash.hash("identity/" + name) | 1
    }

    /// Timing presets. Times are in seconds.
    public enum Profile: String, Sendable, CaseIterable {
        /// The course harness: 0.1 s per message, 1 s client waits, a budget
        /// of 30–100 events per scenario (compat/dslib/README.md). The defaults of
        /// `NodeConfig`, but with anti-entropy and the view exchange off: the
        /// harness steps every event in real time, and a cluster that is never
        /// idle would turn each `steps(100)` of an idle cluster into minutes
        /// (and periodic messages would eat the scenarios' event budgets);
        /// hinted handoff and read repair carry the seed's scenarios, and their
        /// view pushes are not lost.
        case harness
        /// Real nodes on a LAN or loopback: round trips well under a
        /// millisecond, so timeouts only have to ride out pauses (GC-free
        /// Swift, but a busy 2-core machine), and retries can be less eager.
        case server
    }

    public init(name: String, address: Address, profile: Profile) {
        self.init(name: name, address: address)
        switch profile {
        case .harness:
            antiEntropyInterval = nil
            viewExchangeInterval = nil
        case .server:
            requestTimeout = 0.5
            forwardResultTimeout = 5
            operationDeadline = 10
            probeInterval = 1
            handoffInterval = 2
            joinRetryInterval = 1
            viewExchangeInterval = 5
            heartbeatInterval = 1
            downAfter = 5
        }
    }
}
