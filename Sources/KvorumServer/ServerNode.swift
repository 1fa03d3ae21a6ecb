import KvorumCore
import Logging
import NIOCore
import NIOPosix

/// The server shell around one `KvorumNode` (docs/architecture.md): feeds it events from
/// the peer transport, the HTTP API and its timers, and carries out its
/// effects. The core, its storage, the transport and the timers all live on
/// one event loop, so the core is driven serially without locks. The
/// properties every event touches skip the runtime's exclusivity check
/// (`@exclusivity(unchecked)`): each access is read or changed in place and
/// ends before any call that could come back here (a reply's closure is
/// taken out of `waiting` before it runs, and a turn's effects are copied
/// out of `held` before they are carried out).
public final class ServerNode: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var node: NodeConfig
        /// Host and port to accept peers on (the node's ring address is `node.address`).
        public var listenHost: String
        public var listenPort: Int
        public var httpHost: String
        public var httpPort: Int
        /// Host and port of the binary client protocol (docs/binary-protocol.md); nil: off.
        public var binary: (host: String, port: Int)? = nil
        /// The largest request body (a PUT's value) the HTTP API accepts, in bytes.
        public var maxValueBytes: Int
        /// The bounds on connections, time, sizes and queues (docs/limits.md).
        public var limits: NodeLimits
        /// With TLS material the HTTP API is HTTPS (docs/security.md).
        public var httpTLS: HTTPTLS? = nil
        /// The HTTP API's clients and their roles.
        public var access = AccessList()
        /// Mutual TLS between peers (`--certs-dir`), or nil for plain TCP.
        public var peerTLS: NodeTLS?

        public init(
            node: NodeConfig, listenHost: String, listenPort: Int, httpHost: String, httpPort: Int,
            maxValueBytes: Int = ServerSettings.defaultMaxValueBytes, limits: NodeLimits = NodeLimits(),
            peerTLS: NodeTLS? = nil
        ) {
            self.node = node
            self.listenHost = listenHost
            self.listenPort = listenPort
            self.httpHost = httpHost
            self.httpPort = httpPort
            self.maxValueBytes = maxValueBytes
            self.limits = limits
            self.peerTLS = peerTLS
        }
    }

    /// A snapshot of the node for `/stats`.
    public struct Stats: Sendable {
        public var name: String
        public var address: String
        public var records: Int
        public var hintsPending: Int
        public var suspectedPeers: [String]
        public var pendingOperations: Int
        public var members: [String]
        public var partitions: Int
        public var replicas: Int
    }

    public let configuration: Configuration
    /// Renders every metric as Prometheus text; set by the process that
    /// bootstrapped the metrics system.
    public var renderMetrics: (() -> String)?
    /// Runs on the loop once the node has stopped: flush and close the store here.
    public var onShutdown: (() -> Void)?
    public let loop: EventLoop
    let logger: Logger
    private let observationLog: ObservationLog
    private let node: KvorumNode
    private let storage: any Storage
    private var transport: PeerTransport!
    private var http: Channel?
    private var binary: Channel?
    @exclusivity(unchecked) private var timers = TimerQueue()
    /// The one scheduled task that serves `timers`, and when it runs: never
    /// later than their next deadline.
    @exclusivity(unchecked) private var wakeUp: (task: Scheduled<Void>, at: NIODeadline)?
    @exclusivity(unchecked) private var waiting: [RequestID: (ClientReply) -> Void] = [:]
    /// The store's group commit, if it has one.
    private let groupCommit: GroupCommitStorage?
    /// Whether a turn is open: events handled since the last `endTurn()`.
    @exclusivity(unchecked) private var turnOpen = false
    /// The turn's messages and replies, held back until its changes are committed.
    @exclusivity(unchecked) private var held: [Effect] = []
    @exclusivity(unchecked) private var nextRequest: RequestID = 1
    private let started = NIODeadline.now()
    private var stopping = false
    private let metrics = NodeMetrics.shared
    private let observationMetrics = ObservationMetrics(registry: ServerMetrics.registry)
    /// Whether the node has handled its boot event (its HTTP API answers before).
    private var booted = false
    /// Read and write answers that carried a sibling warning.
    private var siblingWarnings = 0
    /// The store's checkpoints as last added to the metrics.
    private var reportedCheckpoints = CheckpointCounts()
    /// Who may use which HTTP endpoint.
    let authenticator: Authenticator
    /// HTTP requests refused for their credentials, by reason.
    private var authRefusals: [String: Int] = [:]

    public init(configuration: Configuration, storage: any Storage, loop: EventLoop, logger: Logger) {
        self.configuration = configuration
        self.loop = loop
        self.logger = logger
        observationLog = ObservationLog(logger: logger)
        self.storage = storage
        groupCommit = storage as? GroupCommitStorage
        authenticator = Authenticator(access: configuration.access, tls: configuration.httpTLS != nil)
        node = KvorumNode(config: configuration.node, storage: storage)
        var limits = PeerTransport.Limits()
        limits.queueTimeout = configuration.node.requestTimeout
        limits.apply(configuration.limits)
        transport = PeerTransport(
            loop: loop, ownName: configuration.node.name, ownAddress: configuration.node.address, limits: limits,
            tls: configuration.peerTLS, logger: logger
        ) { [unowned self] address, message in
            if case .joinRefused(let reason) = message.body {
                self.logger.error("this node was refused as a member", metadata: ["reason": "\(reason)"])
            }
            self.handle(.peer(from: address, message))
        }
        transport.memberAt = { [unowned self] address in
            self.node.memberEntries.first { $0.address == address && $0.status == .up }?.name
        }
    }

    /// Binds the peer and HTTP listeners and starts the node. With a
    /// `contact`, the node joins that node's cluster; without one, a node that
    /// has never been a member starts a cluster of one, and a node that was a
    /// member resumes with the membership it stored.
    public func start(joining contact: Address?) -> EventLoopFuture<Void> {
        loop.flatSubmit {
            self.transport.listen(host: self.configuration.listenHost, port: self.configuration.listenPort)
                .flatMap { HTTPAPI.bind(node: self) }
                .flatMap { channel in
                    self.http = channel
                    guard let binary = self.configuration.binary else { return self.loop.makeSucceededVoidFuture() }
                    return BinaryAPI.bind(node: self, host: binary.host, port: binary.port).map { self.binary = $0 }
                }
                .map {
                    if self.configuration.httpPort == 0, let port = self.httpPort,
                        let host = HostPort.parse(self.node.config.httpAddress ?? "", allowingAnyPort: true)?.host
                    {
                        self.node.setHTTPAddress(HostPort.join(host: host, port: port))
                    }
                    self.handle(.boot(joining: contact))
                    self.booted = true
                }
        }
    }

    /// The HTTP port actually bound (useful when configured as 0).
    public var httpPort: Int? { http?.localAddress?.port }

    /// The binary protocol's port actually bound, if it is on.
    public var binaryPort: Int? { binary?.localAddress?.port }

    /// Submits a client command; `reply` is called on the loop with its one
    /// answer (JOIN and LEAVE too: the core acknowledges typed commands).
    func submit(_ command: ClientCommand, reply: @escaping (ClientReply) -> Void) {
        loop.preconditionInEventLoop()
        guard !stopping else {
            reply(.failed("node \(configuration.node.name) is shutting down", .unavailable))
            return
        }
        let id = nextRequest
        nextRequest += 1
        waiting[id] = reply
        handle(.command(id, command))
    }

    /// Client operations submitted and not yet answered, for `--max-pending-operations`.
    var operationsInFlight: Int {
        loop.preconditionInEventLoop()
        return waiting.count
    }

    /// The versions of `key` this node holds itself (none: an empty set),
    /// as they are, without asking any replica: for `/admin/local`.
    func localCopy(of key: String) -> SiblingSet {
        loop.preconditionInEventLoop()
        return storage.record(for: Key(key))?.siblings ?? SiblingSet()
    }

    var memberEntries: [MemberEntry] {
        loop.preconditionInEventLoop()
        return node.memberEntries
    }

    /// Adds the checkpoints run since the last report to the counters.
    private func reportCheckpoints(_ counts: CheckpointCounts) {
        let last = reportedCheckpoints
        metrics.checkpoints[.background]?.increment(by: Int64(counts.rounds - last.rounds))
        metrics.checkpoints[.writer]?.increment(by: Int64(counts.finishes - last.finishes))
        metrics.checkpointPages[.background]?.increment(by: Int64(counts.roundFrames - last.roundFrames))
        metrics.checkpointPages[.writer]?.increment(by: Int64(counts.finishFrames - last.finishFrames))
        reportedCheckpoints = counts
    }

    /// Prometheus text of every metric, with the node's gauges brought up to date.
    func metricsText() -> String {
        let current = stats()
        metrics.records.set(Int64(current.records))
        metrics.suspectedPeers.set(Int64(current.suspectedPeers.count))
        metrics.pendingOperations.set(Int64(current.pendingOperations))
        metrics.members.set(Int64(current.members.count))
        if let store = storage as? SQLiteStorage {
            metrics.storeBytes.set(Int64(store.bytesOnDisk))
            reportCheckpoints(store.checkpointCounts)
        }
        return (renderMetrics?() ?? "")
            + observationMetrics.text(pending: node.pendingHintsByTarget) + """
                # HELP kvorum_sibling_warnings_total Read and write answers that warned of a key past the sibling \
                warning threshold (--sibling-warning).
                # TYPE kvorum_sibling_warnings_total counter
                kvorum_sibling_warnings_total \(siblingWarnings)
                # HELP kvorum_http_auth_refused_total HTTP requests refused for their credentials: missing (none \
                given, 401), unknown (a token or client certificate this node does not list, 401), forbidden (a role \
                too low for the endpoint, 403).
                # TYPE kvorum_http_auth_refused_total counter
                kvorum_http_auth_refused_total{reason="missing"} \(authRefusals["missing", default: 0])
                kvorum_http_auth_refused_total{reason="unknown"} \(authRefusals["unknown", default: 0])
                kvorum_http_auth_refused_total{reason="forbidden"} \(authRefusals["forbidden", default: 0])

                """ + PeerMetrics(members: node.clusterStatus(at: now)).text
    }

    /// Counts and logs one request refused for its credentials (never the
    /// token itself: only the identity it resolved to, if any).
    func noteRefusal(_ refusal: Authenticator.Refusal, route: String) {
        loop.preconditionInEventLoop()
        authRefusals[refusal.reason, default: 0] += 1
        var metadata: Logger.Metadata = ["route": "\(route)", "reason": "\(refusal.reason)"]
        if case .forbidden(let identity, let needed) = refusal {
            metadata["identity"] = "\(identity.kind.rawValue):\(identity.name)"
            metadata["role"] = "\(identity.role.rawValue)"
            metadata["needed"] = "\(needed.rawValue)"
        }
        logger.warning("refused request", metadata: metadata)
    }

    /// Counts and times one answered client request (`RequestMetrics`).
    func noteRequest(_ op: RequestOperation, _ outcome: RequestOutcome, since begin: NIODeadline) {
        RequestMetrics.shared.record(op, outcome, duration: .nanoseconds((NIODeadline.now() - begin).nanoseconds))
    }

    /// Notes how many versions a read answered with (`kvorum_read_siblings`).
    func noteRead(siblings: Int) {
        if siblings > 0 { metrics.readSiblings.record(Double(siblings)) }
    }

    /// Counts and logs one answer that warned of too many siblings.
    func noteSiblingWarning(_ warning: String) {
        loop.preconditionInEventLoop()
        siblingWarnings += 1
        logger.warning("sibling warning", metadata: ["detail": "\(warning)"])
    }

    func stats() -> Stats {
        loop.preconditionInEventLoop()
        return Stats(
            name: node.config.name, address: node.config.address, records: storage.recordCount,
            hintsPending: node.pendingHintCount, suspectedPeers: node.suspectedPeers,
            pendingOperations: node.pendingOperationCount, members: node.members,
            partitions: node.config.partitionCount, replicas: node.config.replicationFactor)
    }

    /// The cluster as this node sees it, for `/status`.
    func clusterStatus() -> ClusterStatusReport {
        loop.preconditionInEventLoop()
        return ClusterStatusReport(
            node: node.config.name, readiness: readiness(), time: now, members: node.clusterStatus(at: now))
    }

    /// Whether this node can coordinate requests, for `/ready`: the core's
    /// answer once the store is open and the node booted, while it is not
    /// shutting down.
    func readiness() -> Readiness {
        loop.preconditionInEventLoop()
        let name = node.config.name
        if stopping { return .notReady(reason: "node \(name) is shutting down") }
        if !booted { return .notReady(reason: "node \(name) is starting") }
        return node.readiness
    }

    /// Stops accepting work, lets in-flight operations finish (up to
    /// `grace` seconds), then closes the listeners and connections.
    public func shutdown(grace: Double = 5) -> EventLoopFuture<Void> {
        loop.flatSubmit {
            self.stopping = true
            let closeHTTP = self.http?.close().recover { _ in } ?? self.loop.makeSucceededVoidFuture()
            let closeBinary = self.binary?.close().recover { _ in } ?? self.loop.makeSucceededVoidFuture()
            return closeHTTP.and(closeBinary).flatMap { _ in
                self.drain(until: NIODeadline.now() + .nanoseconds(Int64(grace * 1e9)))
            }
            .flatMap {
                self.wakeUp?.task.cancel()
                self.wakeUp = nil
                self.timers.removeAll()
                return self.transport.close()
            }
            .map { self.onShutdown?() }
        }
    }

    private func drain(until deadline: NIODeadline) -> EventLoopFuture<Void> {
        if node.pendingOperationCount == 0 || NIODeadline.now() >= deadline { return loop.makeSucceededVoidFuture() }
        return loop.scheduleTask(in: .milliseconds(20)) {}.futureResult.flatMap { self.drain(until: deadline) }
    }

    // MARK: - Driving the core

    private var now: Double { Double((NIODeadline.now() - started).nanoseconds) / 1e9 }

    /// Hands an event to the core. The events of one turn of the event loop
    /// (everything that was ready when it woke) form one group commit: their
    /// storage changes are committed together at the end of the turn, and
    /// only then do the messages and replies that acknowledge them go out,
    /// each peer's in one write. Timers are set at once.
    private func handle(_ event: Event) {
        loop.preconditionInEventLoop()
        if !turnOpen {
            turnOpen = true
            groupCommit?.beginBatch()
            loop.execute { [unowned self] in self.endTurn() }
        }
        // Effects are read where they are, by index: a `for … in` loop or a
        // pattern binding copies each one, message and all.
        let effects = node.handle(event, now: now)
        for index in effects.indices {
            switch effects[index] {
            case .send, .reply: held.append(effects[index])
            case .setTimer, .cancelTimer: carryOut(effects[index])
            }
        }
        for observation in node.observations {
            observationLog.record(observation)
            observationMetrics.record(observation)
        }
    }

    /// Ends the turn. When it changed the store, the turn's requests to
    /// peers go out before the commit (a write's replicas start storing it
    /// while this node commits its own copy), everything else after it.
    private func endTurn() {
        turnOpen = false
        let effects = held
        held = []
        if let groupCommit, groupCommit.hasPendingChanges {
            for index in effects.indices where Self.leavesBeforeCommit(effects[index]) {
                carryOut(effects[index])
            }
            transport.flush()
            let begin = NIODeadline.now()
            groupCommit.commitBatch()
            metrics.commitDuration.record(.nanoseconds((NIODeadline.now() - begin).nanoseconds))
            for index in effects.indices where !Self.leavesBeforeCommit(effects[index]) {
                carryOut(effects[index])
            }
        } else {
            groupCommit?.commitBatch()
            for index in effects.indices { carryOut(effects[index]) }
        }
        transport.flush()
    }

    /// Whether a held effect is a request to a peer, which may leave before
    /// the turn's changes are committed (`PeerBody.mayLeaveBeforeCommit`).
    private static func leavesBeforeCommit(_ effect: Effect) -> Bool {
        guard case .send(_, let message) = effect else { return false }
        return message.body.mayLeaveBeforeCommit
    }

    private func carryOut(_ effect: Effect) {
        switch effect {
        case .send(let address, let message):
            if case .joinRefused(let reason) = message.body {
                logger.warning("refusing join", metadata: ["to": "\(address)", "reason": "\(reason)"])
            }
            transport.send(message, to: address)
        case .reply(let id, let answer):
            waiting.removeValue(forKey: id)?(answer)
        case .setTimer(let timer, let after):
            timers.set(timer, at: .now() + .nanoseconds(Int64(after * 1e9)))
            scheduleWakeUp()
        case .cancelTimer(let timer):
            // The wake-up stays: finding nothing due, it sleeps again.
            timers.cancel(timer)
        }
    }

    /// Makes sure the loop wakes by the timers' next deadline.
    private func scheduleWakeUp() {
        guard let next = timers.nextDeadline() else { return }
        if let wakeUp, wakeUp.at <= next { return }
        wakeUp?.task.cancel()
        let task = loop.scheduleTask(deadline: next) { [unowned self] in
            self.wakeUp = nil
            let now = NIODeadline.now()
            while let timer = self.timers.removeFirstDue(at: now) { self.handle(.timer(timer)) }
            self.scheduleWakeUp()
        }
        wakeUp = (task, next)
    }
}
