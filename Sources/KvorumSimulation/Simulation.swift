import KvorumCore

/// A deterministic, in-process cluster: nodes, a virtual clock and a network
/// model, all driven one event at a time.
///
/// Pending events are message deliveries and timer firings, each with a due
/// time. `step()` takes the earliest (ties in the order they were scheduled),
/// moves the clock to it and delivers it, as the course's test server does (see
/// docs/architecture.md, "The simulator"). Client requests are
/// handled at once, at the current time, unless the node is busy (`pause`,
/// `workModel`); then they wait, as what else comes due for it does. Every
/// random choice comes from one
/// generator seeded at creation, and nothing depends on hashing order, so the
/// same seed and the same calls give a byte-identical `trace`.
///
/// Not thread-safe: one simulation belongs to one test.
///
/// The properties read or written on every event are marked
/// `@exclusivity(unchecked)`: the runtime's check that no two accesses to
/// them overlap costs more than the rest of their use, and none can overlap,
/// as nothing the simulation calls (a node's `handle`, the network model)
/// can reach back into the simulation.
public final class Simulation {
    /// The virtual time in seconds; starts at 0 and never goes back.
    @exclusivity(unchecked) public private(set) var now: Double = 0
    /// The network model; may be changed mid-run. Messages already in flight
    /// keep the delay they were given; loss decided at delivery uses the model
    /// of that moment.
    @exclusivity(unchecked) public var network: NetworkConfig
    /// The node model: what handling an event costs a node in virtual time.
    /// `free` (the harness) by default; may be changed mid-run.
    @exclusivity(unchecked) public var workModel: WorkModel = .free
    /// The longest event handled so far under a work model that is not
    /// free; nil until then. Not cleared by `resetCounters()`.
    public private(set) var longestEvent: LongestEvent?
    /// One readable line per event, effect, drop and fault, in order.
    public private(set) var trace: [String] = []
    /// Also print trace lines as they are produced.
    @exclusivity(unchecked) public var echoTrace = false
    /// Whether `trace` records events (on by default). Turning it off skips
    /// formatting every line: for benchmarks and long campaigns.
    @exclusivity(unchecked) public var recordTrace = true
    /// Peer messages nodes asked to send (self-messages included, copies not).
    @exclusivity(unchecked) public internal(set) var messagesSent = 0
    /// Peer messages handed to a node (each delivered copy counts).
    @exclusivity(unchecked) public internal(set) var messagesDelivered = 0
    /// Events handled by nodes: starts, client requests, peer messages, timers.
    @exclusivity(unchecked) public private(set) var eventsProcessed = 0
    /// `messagesSent` split by `PeerBody.kind`.
    public var messagesSentByKind: [String: Int] { sentByKind.byKind }
    /// Replies a node gave to a request it was not asked or had already
    /// answered. The harness would hand such a reply to the next request, so
    /// a correct node keeps this at 0. Not cleared by `resetCounters()`.
    public private(set) var unexpectedReplies = 0
    /// Node names in the order they were added.
    public private(set) var nodeNames: [String] = []

    let factory: NodeFactory
    @exclusivity(unchecked) var random: SeededRandom
    @exclusivity(unchecked) var queue = EventQueue()
    @exclusivity(unchecked) var sentByKind = MessageCounts()
    @exclusivity(unchecked) var nextTimerGeneration: UInt64 = 0
    var nextRequestID: RequestID = 0
    var slots: [String: NodeSlot] = [:]
    @exclusivity(unchecked) var addresses = AddressBook()
    @exclusivity(unchecked) var disconnected: Set<String> = []
    @exclusivity(unchecked) var cutLinks: Set<Link> = []
    /// Messages held by a cut under `CutModel.holds`, in the order they were held.
    var held: [Envelope] = []
    /// Steps taken since creation, dropped deliveries included.
    @exclusivity(unchecked) var stepsTaken = 0

    /// Creates an empty simulation.
    /// - Parameters:
    ///   - seed: seeds every random choice of the run.
    ///   - network: the network model; the course harness by default.
    ///   - factory: builds a node from its configuration and storage, at
    ///     `addNode` and at every `restart`; creates a `KvorumNode` by default.
    public init(
        seed: UInt64,
        network: NetworkConfig = .harness,
        factory: @escaping NodeFactory = { KvorumNode(config: $0, storage: $1) }
    ) {
        self.random = SeededRandom(seed: seed)
        self.network = network
        self.factory = factory
    }

    // MARK: Nodes

    /// Adds a node with a fresh `MemoryStorage` and delivers `Event.start` to it
    /// at once.
    /// - Parameters:
    ///   - name: the node's name, unique in the simulation.
    ///   - address: its address; by default `127.0.0.1:97NN`, where NN counts
    ///     the nodes added so far (the first node gets 9701), as in the harness.
    ///   - configure: adjusts the configuration (timeouts, intervals); must not
    ///     change the name or the address.
    /// - Returns: the node's address.
    @discardableResult
    public func addNode(
        name: String,
        address: String? = nil,
        configure: (inout NodeConfig) -> Void = { _ in }
    ) -> String {
        precondition(slots[name] == nil, "node \(name) already exists")
        let address = address ?? "127.0.0.1:\(9700 + nodeNames.count + 1)"
        precondition(addresses.slot(at: address) == nil, "address \(address) is already taken")
        var config = NodeConfig(name: name, address: address)
        configure(&config)
        precondition(
            config.name == name && config.address == address,
            "configure must not change the node's name or address"
        )
        let slot = NodeSlot(config: config)
        slots[name] = slot
        addresses.claim(address, for: slot)
        nodeNames.append(name)
        start(slot)
        return address
    }

    /// The address of a node.
    public func address(of name: String) -> String {
        slot(name).config.address
    }

    /// The storage of a node; the same object across crashes and restarts.
    public func storage(of name: String) -> MemoryStorage {
        slot(name).storage
    }

    /// The running node object, or nil while it is crashed (or unknown).
    public func node(_ name: String) -> (any SimulatedNode)? {
        slots[name]?.node
    }

    /// Whether the node is running (not crashed).
    public func isUp(_ name: String) -> Bool {
        slot(name).node != nil
    }

    /// Whether the node is paused or still busy with an event (`WorkModel`),
    /// so that what comes due for it now waits.
    public func isBusy(_ name: String) -> Bool {
        slot(name).busyUntil > now
    }

    // MARK: Clients

    /// Hands a client request to a node, which handles it at once (as the
    /// harness does); its effects are applied. A request to a crashed node is
    /// lost, and traced. A request to a busy node waits until it is free, and
    /// is lost if the node crashes first.
    /// - Returns: the request's id, unique in the simulation; the reply carries it.
    @discardableResult
    public func send(_ request: ClientRequest, to name: String) -> RequestID {
        let slot = slot(name)
        nextRequestID += 1
        let id = nextRequestID
        let line = {
            "\(name) <= #\(id) \(request.type)"
                + (request.body == .null ? "" : " " + TraceFormat.describe(request.body))
        }
        guard let node = slot.node else {
            log(line() + " (lost: \(name) down)")
            return id
        }
        slot.openRequests.insert(id)
        if slot.busyUntil > now {
            log(line() + " (waits: \(name) busy)")
            queue.insert(.client(node: slot, id: id, request: request, life: slot.life), due: slot.busyUntil)
            return id
        }
        log(line())
        handle(.client(id, request), at: slot, node: node)
        return id
    }

    /// Every client reply the node has given so far, in order. The list lives
    /// for the whole simulation, across crashes.
    public func replies(of name: String) -> [(id: RequestID, response: ClientResponse)] {
        slot(name).replies.map { (id: $0.id, response: ClientResponse($0.reply)) }
    }

    /// The (first) reply to request `id` at the node, if it has been given.
    public func reply(to id: RequestID, at name: String) -> ClientResponse? {
        slot(name).firstReply[id].map(ClientResponse.init)
    }

    /// Steps events until the node has replied to request `id`.
    ///
    /// Gives up and returns nil once `maxEvents` events have been stepped, or
    /// when nothing is pending, or when the next event is due later than the
    /// time of the call plus `timeLimit`; the clock is then left at the last
    /// event stepped.
    public func runUntilReply(
        to id: RequestID,
        at name: String,
        maxEvents: Int = 10_000,
        timeLimit: Double = 1.0
    ) -> ClientResponse? {
        runUntilNodeReply(to: id, at: name, maxEvents: maxEvents, timeLimit: timeLimit).map(ClientResponse.init)
    }

    /// `runUntilReply`, returning the reply as the node gave it, not in the
    /// seed's JSON shape: for the harness's own checks, which would otherwise
    /// render it and parse it back.
    func runUntilNodeReply(to id: RequestID, at name: String, maxEvents: Int, timeLimit: Double) -> ClientReply? {
        let slot = slot(name)
        let deadline = now + timeLimit
        var budget = maxEvents
        while true {
            if let reply = slot.firstReply[id] { return reply }
            guard budget > 0, let due = nextDue(), due <= deadline else { return nil }
            step()
            budget -= 1
        }
    }

    /// Sends a client request and runs until it is answered: `send` followed by
    /// `runUntilReply` with the same limits.
    public func request(
        _ request: ClientRequest,
        at name: String,
        maxEvents: Int = 10_000,
        timeLimit: Double = 1.0
    ) -> ClientResponse? {
        let id = send(request, to: name)
        return runUntilReply(to: id, at: name, maxEvents: maxEvents, timeLimit: timeLimit)
    }

    // MARK: Running

    /// Delivers the earliest due event, moving the clock to its due time. A
    /// message dropped at delivery also takes a step, as in the harness.
    /// - Returns: false when nothing is pending.
    @discardableResult
    public func step() -> Bool {
        guard let due = nextDue() else { return false }
        let event = queue.removeFirst()
        now = max(now, due)
        stepsTaken += 1
        if let slot = event.waitingNode, slot.busyUntil > now {
            queue.insert(event, due: slot.busyUntil)
            return true
        }
        // Consumed, so that a message's letter is held once when delivered
        // and its message moves out (`Envelope.takeMessage`).
        switch consume event {
        case .message(let envelope):
            deliver(envelope)
        case .client(let slot, let id, let request, let life):
            if let node = slot.node, slot.life == life {
                handle(.client(id, request), at: slot, node: node)
            } else {
                log("\(slot.config.name) lost #\(id) \(request.type) (\(slot.config.name) down)")
            }
        case .timer(let slot, let timer, _):
            slot.timers[timer] = nil
            log("\(slot.config.name) timer \(timer)")
            if let node = slot.node { handle(.timer(timer), at: slot, node: node) }
        }
        return true
    }

    /// Steps up to `n` events, stopping early when nothing is pending.
    /// - Returns: how many events were stepped.
    @discardableResult
    public func run(events n: Int) -> Int {
        var count = 0
        while count < n, step() { count += 1 }
        return count
    }

    /// Steps every event due up to `now + duration`, then sets the clock to
    /// `now + duration`.
    /// - Parameter maxEvents: a guard against nodes that schedule work without
    ///   end at zero delay; when it is reached the clock stays at the last event.
    /// - Returns: false when `maxEvents` stopped the run early.
    @discardableResult
    public func run(for duration: Double, maxEvents: Int = 1_000_000) -> Bool {
        let deadline = now + duration
        var budget = maxEvents
        while let due = nextDue(), due <= deadline {
            guard budget > 0 else { return false }
            step()
            budget -= 1
        }
        now = max(now, deadline)
        return true
    }

    /// Steps events until nothing is pending, or `maxEvents` were stepped.
    /// - Returns: true when the queue emptied. A node with periodic timers
    ///   never lets it empty.
    @discardableResult
    public func runUntilQuiet(maxEvents: Int = 1_000_000) -> Bool {
        run(events: maxEvents)
        return nextDue() == nil
    }

    // MARK: Observation

    /// The trace as one text, a line per entry, ending with a newline.
    public var traceText: String {
        trace.isEmpty ? "" : trace.joined(separator: "\n") + "\n"
    }

    /// Zeroes `messagesSent`, `messagesDelivered`, `eventsProcessed` and
    /// `messagesSentByKind`.
    public func resetCounters() {
        messagesSent = 0
        messagesDelivered = 0
        eventsProcessed = 0
        sentByKind = MessageCounts()
    }

    // MARK: Internals shared by the extensions

    func slot(_ name: String) -> NodeSlot {
        guard let slot = slots[name] else { preconditionFailure("unknown node \(name)") }
        return slot
    }

    func requireKnown(_ names: String...) {
        for name in names {
            precondition(slots[name] != nil, "unknown node \(name)")
        }
    }

    func log(_ text: @autoclosure () -> String) {
        guard recordTrace || echoTrace else { return }
        let line = TraceFormat.time(now) + " " + text()
        if recordTrace { trace.append(line) }
        if echoTrace { print(line) }
    }

    /// Creates the node object for a slot and delivers `event` (`.start` or `.boot`).
    func start(_ slot: NodeSlot, with event: Event = .start) {
        let before = slot.storage.work
        let node = factory(slot.config, slot.storage)
        slot.node = node
        if case .boot(let contact) = event {
            log("\(slot.config.name) boot" + (contact.map { " joining \($0)" } ?? ""))
        } else {
            log("\(slot.config.name) start")
        }
        handle(event, at: slot, node: node, workSince: before)
    }

    /// The due time of the earliest live event, discarding stale timers on the way.
    func nextDue() -> Double? {
        while let due = queue.firstDue {
            let stale = queue.withFirst { event in
                if case .timer(let slot, let timer, let generation) = event {
                    slot.timers[timer] != generation
                } else {
                    false
                }
            }
            guard stale == true else { return due }
            _ = queue.removeFirst()
        }
        return nil
    }

    func schedule(_ event: ScheduledEvent, after delay: Double) {
        queue.insert(event, due: now + max(0, delay))
    }

    /// Lets the node handle one event and applies its effects in order.
    /// Under a work model that is not free, the event's cost counts the
    /// store's work since `workSince` (by default, from now), and its
    /// messages and timers start when it ends.
    func handle(_ event: Event, at slot: NodeSlot, node: any SimulatedNode, workSince: StorageWork? = nil) {
        eventsProcessed += 1
        guard !workModel.isFree else {
            for effect in node.handle(event, now: now) {
                apply(effect, from: slot, finishing: 0)
            }
            return
        }
        let before = workSince ?? slot.storage.work
        let effects = node.handle(event, now: now)
        let seconds = workModel.cost(of: slot.storage.work - before)
        slot.busyUntil = now + seconds
        if seconds > longestEvent?.seconds ?? 0 {
            longestEvent = LongestEvent(node: slot.config.name, started: now, seconds: seconds)
        }
        for effect in effects {
            apply(effect, from: slot, finishing: seconds)
        }
    }

    /// Applies one effect of an event that ends `finishing` seconds from now.
    private func apply(_ effect: Effect, from slot: NodeSlot, finishing: Double) {
        let name = slot.config.name
        switch effect {
        case .send(let address, let message):
            send(message, from: slot, to: address, departingAfter: finishing)
        case .reply(let id, let reply):
            let expected = slot.openRequests.remove(id) != nil
            slot.replies.append((id: id, reply: reply))
            // An expected reply is the request's first: no lookup needed.
            if expected || slot.firstReply[id] == nil { slot.firstReply[id] = reply }
            if !expected { unexpectedReplies += 1 }
            log(
                { () -> String in
                    let response = ClientResponse(reply)
                    return "\(name) reply #\(id) \(response.type)"
                        + (response.body == .null ? "" : " " + TraceFormat.describe(response.body))
                        + (expected ? "" : " (unexpected)")
                }())
        case .setTimer(let timer, let after):
            nextTimerGeneration += 1
            slot.timers[timer] = nextTimerGeneration
            schedule(.timer(node: slot, name: timer, generation: nextTimerGeneration), after: finishing + after)
            log("\(name) set timer \(timer) +\(TraceFormat.seconds(after))")
        case .cancelTimer(let timer):
            slot.timers[timer] = nil
            log("\(name) cancel timer \(timer)")
        }
    }
}

/// One node's place in the simulation: what survives a crash (config,
/// storage, replies) and what does not (the node object, its timers).
///
/// The node's replies are kept as the node gave them and rendered in the
/// seed's JSON shapes (`ClientResponse`) only when asked for, as most are
/// never looked at. Properties used on every event skip the runtime's
/// exclusivity check, as the simulation's do.
final class NodeSlot {
    let config: NodeConfig
    let storage = MemoryStorage()
    @exclusivity(unchecked) var node: (any SimulatedNode)?
    /// Grows at every crash and restart; a message addressed to an earlier
    /// life of the node is lost.
    @exclusivity(unchecked) var life: UInt64 = 0
    /// Until when the node is busy with an event (`WorkModel`) or paused;
    /// what comes due for it before then waits.
    @exclusivity(unchecked) var busyUntil: Double = 0
    /// When the last message this node put on each link arrives, by
    /// destination slot (`LinkOrder.fifo`).
    @exclusivity(unchecked) var lastArrival: [ObjectIdentifier: Double] = [:]
    /// The generation of each pending timer; a queued firing of another
    /// generation is stale.
    @exclusivity(unchecked) var timers = TimerGenerations()
    @exclusivity(unchecked) var replies: [(id: RequestID, reply: ClientReply)] = []
    @exclusivity(unchecked) var firstReply: [RequestID: ClientReply] = [:]
    @exclusivity(unchecked) var openRequests: Set<RequestID> = []

    init(config: NodeConfig) {
        self.config = config
    }
}

/// What waits in the queue (`EventQueue`) for its due time.
enum ScheduledEvent {
    case message(Envelope)
    case timer(node: NodeSlot, name: NodeTimer, generation: UInt64)
    /// A client request that came while its node was busy; lost if the
    /// node's life is no longer `life`.
    case client(node: NodeSlot, id: RequestID, request: ClientRequest, life: UInt64)

    /// The node a timer firing or a client request is for, which waits while
    /// that node is busy; nil for a message, which waits at its delivery
    /// (`deliver`), once the network has decided its fate.
    var waitingNode: NodeSlot? {
        switch self {
        case .message: nil
        case .timer(let node, _, _), .client(let node, _, _, _): node
        }
    }
}

/// A peer message in flight.
///
/// What never changes in flight sits in one shared object, so that the
/// event queue moves and copies a reference and a flag rather than the
/// message itself (over a hundred bytes, several references).
struct Envelope {
    private final class Letter {
        let source: NodeSlot
        let destination: NodeSlot
        /// Nil only once `takeMessage` has moved it out.
        var message: PeerMessage?
        let destinationLife: UInt64
        let sentAt: Double

        init(source: NodeSlot, destination: NodeSlot, message: PeerMessage, destinationLife: UInt64, sentAt: Double) {
            self.source = source
            self.destination = destination
            self.message = message
            self.destinationLife = destinationLife
            self.sentAt = sentAt
        }
    }

    private var letter: Letter
    /// Whether connectivity and random loss are still to be decided.
    var decidedAtDelivery: Bool
    /// Whether the message has reached its destination, which was busy, so
    /// that it waits there: no cut or random loss applies to it any more.
    var arrived = false

    init(
        source: NodeSlot, destination: NodeSlot, message: PeerMessage, destinationLife: UInt64,
        decidedAtDelivery: Bool, sentAt: Double
    ) {
        letter = Letter(
            source: source, destination: destination, message: message, destinationLife: destinationLife,
            sentAt: sentAt)
        self.decidedAtDelivery = decidedAtDelivery
    }

    /// The sender's and the destination's slots, held directly so that
    /// sending and delivering look no node up by name.
    var source: NodeSlot { letter.source }
    var destination: NodeSlot { letter.destination }
    var message: PeerMessage { letter.message! }

    /// The destination's life when the message was sent.
    var destinationLife: UInt64 { letter.destinationLife }
    /// The virtual time of the send.
    var sentAt: Double { letter.sentAt }

    /// The sender's name.
    var from: String { source.config.name }
    /// The destination's name.
    var to: String { destination.config.name }

    /// The message, for its delivery: moved out of the letter when this
    /// envelope holds the only reference to it (no duplicate is still in
    /// flight), so that delivering copies nothing; the envelope is then
    /// done with.
    consuming func takeMessage() -> PeerMessage {
        guard isKnownUniquelyReferenced(&letter) else { return letter.message! }
        return letter.message.take()!
    }
}

/// The generation of each pending timer of one node, looked up for every
/// timer set, cancelled, fired or found stale.
///
/// The node's fixed timers sit in a small array by kind, and only operation
/// timers in a table keyed by the operation's id: hashing a `NodeTimer` (its
/// case, then its id) costs about twice hashing an id alone.
struct TimerGenerations {
    private var fixed = [UInt64?](repeating: nil, count: 7)
    private var operations: [UInt64: UInt64] = [:]

    subscript(timer: NodeTimer) -> UInt64? {
        get {
            switch timer {
            case .operation(let op): operations[op]
            default: fixed[Self.place(of: timer)]
            }
        }
        set {
            switch timer {
            case .operation(let op): operations[op] = newValue
            default: fixed[Self.place(of: timer)] = newValue
            }
        }
    }

    /// Forgets every timer.
    mutating func removeAll() {
        self = TimerGenerations()
    }

    /// Where a fixed timer's generation sits in `fixed`.
    private static func place(of timer: NodeTimer) -> Int {
        switch timer {
        case .probe: 0
        case .heartbeat: 1
        case .handoff: 2
        case .join: 3
        case .antiEntropy: 4
        case .viewExchange: 5
        case .reap: 6
        case .operation: preconditionFailure("an operation timer has no fixed place")
        }
    }
}

/// The slot of each address in use, for sending: a node names the
/// destination of a message by address.
///
/// The slots are searched in order rather than hashed: a simulation holds a
/// handful of nodes, and comparing a handful of short strings costs a
/// fraction of hashing one, which every message sent would otherwise pay.
struct AddressBook {
    private var entries: [(address: Address, slot: NodeSlot)] = []

    /// The slot at `address`, nil when no node is there.
    func slot(at address: Address) -> NodeSlot? {
        entries.first { $0.address == address }?.slot
    }

    /// Gives `address`, which must be free, to `slot`.
    mutating func claim(_ address: Address, for slot: NodeSlot) {
        entries.append((address: address, slot: slot))
    }

    /// Frees `address` if `slot` holds it.
    mutating func release(_ address: Address, from slot: NodeSlot) {
        entries.removeAll { $0.address == address && $0.slot === slot }
    }
}

/// One direction between two nodes.
struct Link: Hashable {
    var from: String
    var to: String
}
