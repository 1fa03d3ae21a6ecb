import KvorumCore

/// The shape of one fault campaign: cluster size, workload and fault mix.
///
/// Everything random inside these bounds (how many nodes, which operation,
/// which fault, when) is drawn from the campaign's seed, so a seed and a
/// configuration name one run exactly.
public struct CampaignConfig: Sendable, Equatable {
    /// How many nodes form the cluster at the start; the campaign draws a
    /// number from this range (docs/campaigns.md: at least 5 so LEAVE can keep ≥ 4).
    public var nodes: ClosedRange<Int> = 5...7
    /// Spare nodes, started but outside the cluster, that the campaign may JOIN.
    public var spares = 1
    /// Logical clients issuing requests concurrently; each waits for the
    /// reply to its request before issuing the next.
    public var clients = 3
    /// How long a client waits after one operation before it starts the next
    /// (virtual seconds, drawn uniformly), so the workload spans the faults.
    public var thinkTime: ClosedRange<Double> = 0...4
    /// Client operations in the workload (a read-modify-write or a cart add
    /// counts once: its GET and its PUT).
    public var operations = 30
    /// Plain keys (`key-0` …) the workload uses: few, so writes conflict.
    public var plainKeys = 3
    /// Cart keys (`cart-0` …) the workload uses.
    public var cartKeys = 2
    /// The faults and how often they come.
    public var faults = FaultMix()
    /// Partitions (virtual nodes) of every node's ring. Placement is the same
    /// function of the members at any count; fewer make the ring and
    /// anti-entropy cheaper to compute in a debug build.
    public var partitionCount = 4096
    /// When nodes reap tombstones: a grace period longer than any fault
    /// holds a message (faults last at most 8 s, long delays add 6 s), short
    /// enough that deletes early in the workload are reaped before the check.
    public var reaping = Reaping(grace: 30, interval: 5)
    /// Whether nodes run anti-entropy (Dynamo §4.7) at its default interval;
    /// off shows what hinted handoff and read repair alone achieve.
    public var antiEntropy = true
    /// The network between faults: small random delays, and cuts that hold
    /// messages and deliver them late after the heal, as TCP does.
    public var baseNetwork = NetworkConfig.tcpLike()
    /// The node model (`WorkModel`): `free` by default, so events take no
    /// time; another model makes every event cost the rows it touches.
    public var workModel = WorkModel.free
    /// How long (virtual seconds) the cluster is left alone to heal after the
    /// faults stop, before the invariants are checked.
    public var healTime: Double = 120
    /// A bound on the workload phase (virtual seconds): a client still waiting
    /// for a reply then is reported by the liveness check.
    public var maxWorkloadTime: Double = 600
    /// Extra random keys whose placement the ring check also verifies.
    public var ringProbeKeys = 20
    /// Trace lines kept in a result for a failure report (the whole trace is
    /// in the result's `trace`).
    public var traceTail = 200
    /// When the campaign's trace is recorded.
    public var trace = CampaignTrace.whole

    public init() {}

    /// The configuration of the test suite's fixed seeds (`kvorum simulate
    /// --quick`): fewer operations and a 256-partition ring, so a few hundred
    /// seeds run in under a minute of a debug build.
    public static var quick: CampaignConfig {
        var config = CampaignConfig()
        config.operations = 24
        config.partitionCount = 256
        return config
    }
}

/// Which faults a campaign injects and how often. Weights are relative; a
/// fault that cannot apply at the moment (no spare left to JOIN, too few
/// members to LEAVE, too many nodes down) is skipped.
public struct FaultMix: Sendable, Equatable {
    /// Faults injected per virtual second of the workload, on average.
    public var rate = 0.5
    /// Random message loss for a while.
    public var loss = 2.0
    /// Random message duplication for a while.
    public var duplication = 1.0
    /// Random extra delays (reordering) for a while.
    public var reordering = 1.0
    /// Long delays: some messages take seconds, outliving request timeouts.
    public var longDelay = 1.0
    /// A random split of the nodes into two sides, healed later.
    public var partition = 2.0
    /// One node cut off from every peer, reconnected later.
    public var disconnect = 1.5
    /// One node crashed (storage kept), restarted later.
    public var crash = 2.0
    /// A spare node JOINs through a random member.
    public var join = 0.4
    /// A member LEAVEs (only while at least 5 are members).
    public var leave = 0.4
    /// A member that is up stops handling events for a fault's duration,
    /// as under `kill -STOP` or a long stall of its host, then handles what
    /// waited, in order (`Simulation.pause`).
    public var pause = 1.0
    /// Most nodes down at once.
    public var maxCrashed = 2
    /// A fault lasts a duration drawn from this range (virtual seconds).
    public var duration: ClosedRange<Double> = 0.5...8
    /// How often one node still down when the faults stop stays down for a
    /// long outage (longer than the reaping grace period) before it restarts:
    /// a replica away while the others would reap what it missed.
    public var longOutageChance = 0.3
    /// How long a long outage lasts after the faults stop (virtual seconds).
    public var longOutage: ClosedRange<Double> = 40...70

    public init() {}

    /// No faults at all: the workload alone.
    public static var none: FaultMix {
        var mix = FaultMix()
        mix.rate = 0
        return mix
    }
}

/// When a campaign records its trace.
public enum CampaignTrace: Sendable, Equatable {
    /// As it runs, every line (`Campaign.sim.trace`).
    case whole
    /// Not while it runs: formatting the lines costs more instructions than
    /// the rest of a campaign together. A campaign that fails runs again from
    /// its seed with the trace on, and its result carries that run's trace;
    /// the seed fixes every choice, so the replay is the same run.
    case replayOnFailure
}
