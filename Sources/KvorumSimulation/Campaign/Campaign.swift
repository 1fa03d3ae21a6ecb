import KvorumCore

/// A randomized fault campaign (FoundationDB-style deterministic simulation
/// testing): a workload from several logical clients runs on a simulated
/// cluster while faults come and go; then the faults stop, the cluster is
/// left to heal, and the invariants of `CampaignInvariants` are checked
/// against the campaign's own `CampaignModel` of what the clients did.
///
/// Every choice comes from the seed (one generator for the campaign, one
/// inside the simulation), so a failing seed replays exactly:
/// `kvorum simulate --seeds 1 --from SEED --trace`.
///
/// Phases:
/// 1. Nodes `node01`… are added (the members, then the spares) and the
///    members form a cluster through `node01`.
/// 2. Workload: in ticks of 0.02–0.3 virtual seconds, each idle client may
///    start an operation at a random member that is up, with a random quorum
///    (1…3): a GET; a read-modify-write (GET, then PUT of a fresh value with
///    one returned sibling's metadata, or with the join of all returned
///    contexts); a delete (GET a plain key, then DELETE with the joined
///    context); a blind PUT; or a cart add (GET a `cart-…` key, PUT the
///    union of its items plus a fresh item with the joined context). Each
///    tick may also inject a fault: message loss, duplication, reordering,
///    long delays, a partition, a disconnected node, a crash (storage kept),
///    a JOIN of a spare or a LEAVE of a member (keeping at least 4). Each
///    fault but JOIN and LEAVE is undone after a random duration.
/// 3. Heal: the network model returns to the base, every cut is healed,
///    every crashed node restarts (sometimes one only after a long outage,
///    longer than the tombstone grace period), and the cluster runs alone
///    for `healTime` virtual seconds.
/// 4. Check every invariant and return the violations.
///
/// Not thread-safe; one campaign runs once.
public final class Campaign {
    public let seed: UInt64
    public let config: CampaignConfig
    /// The simulation the campaign runs on: its trace is the campaign's record.
    public let sim: Simulation
    /// What the clients did and were told.
    public internal(set) var model = CampaignModel()

    var random: SeededRandom
    let initialMembers: [String]
    var spares: [String]
    var clients: [ClientState]
    var issued = 0
    var nextUnique = 0
    var activeFaults: [ActiveFault] = []
    var faultCounts = [Int](repeating: 0, count: FaultKind.allCases.count)
    var statistics = CampaignStatistics()
    var violations: [CampaignViolation] = []
    var ran = false

    /// Prepares a campaign: draws the cluster size and adds the nodes.
    public init(seed: UInt64, config: CampaignConfig = CampaignConfig()) {
        self.seed = seed
        self.config = config
        // The campaign's own choices use a stream separate from the network's.
        random = SeededRandom(seed: seed ^ 0xC0FF_EE00_5EED_CAFE)
        sim = Simulation(seed: seed, network: config.baseNetwork)
        sim.recordTrace = config.trace == .whole
        sim.workModel = config.workModel
        let count = config.nodes.lowerBound + random.nextInt(below: config.nodes.count)
        let names = (1...(count + config.spares)).map(Campaign.nodeName)
        initialMembers = Array(names.prefix(count))
        spares = Array(names.dropFirst(count))
        clients = (0..<config.clients).map { _ in ClientState() }
        for name in names {
            sim.addNode(name: name) { node in
                node.partitionCount = config.partitionCount
                node.reaping = config.reaping
                if !config.antiEntropy { node.antiEntropyInterval = nil }
            }
        }
        model.keys =
            (0..<config.plainKeys).map { "key-\($0)" } + (0..<config.cartKeys).map { "cart-\($0)" }
        for name in names { model.crashes[name] = 0 }
        statistics.nodes = count
    }

    /// `node01` … `node99`.
    static func nodeName(_ index: Int) -> String {
        "node" + (index < 10 ? "0" : "") + String(index)
    }

    /// Runs the whole campaign and checks the invariants.
    public func run() -> CampaignResult {
        precondition(!ran, "a campaign runs once")
        ran = true
        sim.log(
            "** campaign seed \(seed): members \(initialMembers.joined(separator: ",")), spares "
                + "\(spares.joined(separator: ",")), \(config.clients) clients, \(config.operations) operations")
        if sim.formCluster(initialMembers, via: initialMembers[0], maxEvents: 5_000) {
            model.members = initialMembers.sorted(by: byteOrder)
            model.membershipChanges.append(.init(description: "formed", at: sim.now, members: model.members))
            runWorkload()
            if let (node, outage) = stopFaults() {
                sim.log("** campaign: faults stopped; \(node) stays down for \(TraceFormat.seconds(outage)) s")
                let start = sim.now
                deleteKeys(replicatedBy: node)
                sim.run(for: max(0, start + outage - sim.now))
                sim.restart(node)
            }
            sim.log("** campaign: faults stopped; healing for \(TraceFormat.seconds(config.healTime)) s")
            sim.run(for: config.healTime)
            sim.log("** campaign: checking invariants")
            violations += checkInvariants()
        } else {
            violations.append(CampaignViolation("setup", "the cluster \(initialMembers) did not form"))
        }
        statistics.faults = FaultKind.allCases.map { (kind: $0.rawValue, count: faultCounts[$0.index]) }
        statistics.end = sim.now
        statistics.events = sim.eventsProcessed
        statistics.messages = sim.messagesSent
        statistics.reapMessages = sim.messagesSentByKind["reap", default: 0]
        for violation in violations { sim.log("** violation " + violation.description) }
        let trace = violations.isEmpty || config.trace == .whole ? sim.trace : replayWithTrace()
        return CampaignResult(
            seed: seed, violations: violations, statistics: statistics,
            traceTail: Array(trace.suffix(config.traceTail)), trace: trace)
    }

    /// Runs this campaign's seed again with the trace on and returns the
    /// replay's trace. A replay that does not fail the same way (which a
    /// correct simulator cannot do) is a violation of its own.
    private func replayWithTrace() -> [String] {
        var traced = config
        traced.trace = .whole
        let replay = Campaign(seed: seed, config: traced)
        let replayed = replay.run()
        if replayed.violations != violations || replayed.statistics != statistics {
            violations.append(
                CampaignViolation(
                    "replay",
                    "the seed run again with its trace on ended otherwise: \(replayed.violations.count) "
                        + "violation(s), \(replayed.statistics.summary)"))
        }
        return replay.sim.trace
    }

    /// Every invariant, on the state the campaign ended in.
    func checkInvariants() -> [CampaignViolation] {
        let ring = Ring(members: model.members, partitionCount: config.partitionCount)
        var found: [CampaignViolation] = []
        found += CampaignInvariants.noAcknowledgedWriteLost(model: model, sim: sim, ring: ring)
        found += CampaignInvariants.convergence(model: model, sim: sim, ring: ring)
        found += CampaignInvariants.noFalseSiblings(model: model, sim: sim)
        found += CampaignInvariants.cartItemsKept(model: model, sim: sim, ring: ring)
        found += CampaignInvariants.uniqueDots(model: model, sim: sim)
        found += CampaignInvariants.atMostOnce(model: model, sim: sim)
        found += CampaignInvariants.noResurrection(model: model, sim: sim)
        let probes = (0..<config.ringProbeKeys).map { "ring-probe-\($0)" }
        found += CampaignInvariants.ringPlacement(
            model: model, probeKeys: probes, partitionCount: config.partitionCount)
        found += CampaignInvariants.ringAgreement(
            model: model, sim: sim, probeKeys: probes, partitionCount: config.partitionCount)
        found += CampaignInvariants.listing(model: model, sim: sim, ring: ring)
        found += CampaignInvariants.liveness(model: model, sim: sim)
        return found
    }

    // MARK: - Workload

    /// Ticks until every operation was issued and answered (or the time bound).
    func runWorkload() {
        let start = sim.now
        while true {
            healDueFaults()
            pollClients()
            if issued >= config.operations && clients.allSatisfy(\.isIdle) { break }
            if sim.now - start > config.maxWorkloadTime {
                sim.log("** campaign: workload time bound reached with clients still waiting")
                break
            }
            startOperations()
            let tick = random.nextDouble(from: 0.02, to: 0.3)
            if random.chance(config.faults.rate * tick) { injectFault() }
            sim.run(for: tick)
        }
        statistics.workloadEnd = sim.now
    }

    /// Members that are up: where clients send requests.
    var reachableMembers: [String] {
        model.members.filter { sim.isUp($0) }
    }

    func pickNode() -> String? {
        let candidates = reachableMembers
        guard !candidates.isEmpty else { return nil }
        return candidates[random.nextInt(below: candidates.count)]
    }

    func pickQuorum() -> Int { 1 + random.nextInt(below: 3) }

    func unique() -> Int {
        nextUnique += 1
        return nextUnique
    }

    func startOperations() {
        for c in clients.indices where clients[c].isIdle && issued < config.operations {
            guard clients[c].readyAt <= sim.now, let node = pickNode() else { continue }
            issued += 1
            statistics.operations += 1
            let roll = random.nextUnit()
            let plain = model.keys.prefix(config.plainKeys)
            let carts = model.keys.dropFirst(config.plainKeys)
            if roll < 0.3, !carts.isEmpty {
                let key = carts[carts.startIndex + random.nextInt(below: carts.count)]
                sim.log("** campaign: client \(c) cart add to \(key)")
                sendGet(client: c, key: key, at: node, purpose: .cartAdd)
                continue
            }
            let keys = plain.isEmpty ? carts : plain
            let key = keys[keys.startIndex + random.nextInt(below: keys.count)]
            switch roll {
            case ..<0.45:
                sendGet(client: c, key: key, at: node, purpose: .read)
            case ..<0.6:
                sim.log("** campaign: client \(c) read-modify-write \(key) (one sibling)")
                sendGet(client: c, key: key, at: node, purpose: .modifyOne)
            case ..<0.72:
                sim.log("** campaign: client \(c) read-modify-write \(key) (joined context)")
                sendGet(client: c, key: key, at: node, purpose: .modifyAll)
            case ..<0.84 where !plain.isEmpty:
                sim.log("** campaign: client \(c) read-delete \(key)")
                sendGet(client: c, key: key, at: node, purpose: .delete)
            default:
                sim.log("** campaign: client \(c) blind put to \(key)")
                sendPut(client: c, key: key, value: "c\(c)w\(unique())", item: nil, metadata: nil, at: node)
            }
        }
    }

    func sendGet(client: Int, key: String, at node: String, purpose: ClientState.Purpose) {
        let body: JSON = ["key": .string(key), "quorum": .int(Int64(pickQuorum()))]
        let id = send(ClientRequest(type: "GET", body: body), to: node)
        clients[client].waiting = .get(id: id, node: node, life: model.crashes[node]!, key: key, purpose: purpose)
    }

    func sendPut(client: Int, key: String, value: String, item: String?, metadata: String?, at node: String) {
        let quorum = pickQuorum()
        var body: [String: JSON] = ["key": .string(key), "value": .string(value), "quorum": .int(Int64(quorum))]
        if let metadata { body["metadata"] = .string(metadata) }
        let id = send(ClientRequest(type: "PUT", body: .object(body)), to: node)
        let write = CampaignModel.Write(
            index: model.writes.count, client: client, key: key, value: value, item: item,
            sentMetadata: metadata, context: metadata.map(CampaignModel.context(ofMetadata:)) ?? VersionVector(),
            node: node, quorum: quorum, request: id, sentAt: sim.now)
        model.add(write)
        clients[client].waiting = .put(id: id, node: node, life: model.crashes[node]!, write: write.index)
    }

    /// Deletes, while `node` is down, every plain key it is a replica of
    /// (client 0 reads each at quorum 2 through another member and deletes
    /// what it read), so its copies are what the others must not reap
    /// behind its back.
    func deleteKeys(replicatedBy node: String) {
        let ring = Ring(members: model.members, partitionCount: config.partitionCount)
        for key in model.keys.prefix(config.plainKeys)
        where ring.replicas(for: Key(key), n: CampaignInvariants.replicationFactor).contains(node) {
            guard let coordinator = reachableMembers.first(where: { $0 != node }) else { return }
            sim.log("** campaign: client 0 deletes \(key) while \(node) is down")
            let get = send(ClientRequest(.get(key: Key(key), quorum: 2)), to: coordinator)
            guard let answer = sim.runUntilReply(to: get, at: coordinator, timeLimit: 10),
                case .versions(let read)? = try? ClientReply(seed: answer), !read.isAbsent
            else { continue }
            let (id, index) = recordDelete(
                client: 0, key: key, metadata: Metadata.encode(read.context), at: coordinator)
            if let reply = sim.runUntilReply(to: id, at: coordinator, timeLimit: 10) {
                onPutReply(write: index, reply)
            } else {
                model.writes[index].outcome = .failed("no reply within 10 s")
            }
        }
    }

    /// A DELETE with the joined context of the client's read.
    func sendDelete(client: Int, key: String, metadata: String, at node: String) {
        let (id, index) = recordDelete(client: client, key: key, metadata: metadata, at: node)
        clients[client].waiting = .put(id: id, node: node, life: model.crashes[node]!, write: index)
    }

    /// Sends a DELETE and adds it to the model.
    /// - Returns: its request id and its index among the model's writes.
    func recordDelete(client: Int, key: String, metadata: String, at node: String) -> (RequestID, Int) {
        let quorum = pickQuorum()
        let context = CampaignModel.context(ofMetadata: metadata)
        let id = send(ClientRequest(.delete(key: Key(key), quorum: quorum, context: context)), to: node)
        var write = CampaignModel.Write(
            index: model.writes.count, client: client, key: key, value: "", item: nil, sentMetadata: metadata,
            context: context, node: node, quorum: quorum, request: id, sentAt: sim.now)
        write.kind = .delete
        model.add(write)
        statistics.deletes += 1
        return (id, write.index)
    }

    func send(_ request: ClientRequest, to node: String) -> RequestID {
        let id = sim.send(request, to: node)
        model.requests.append(
            .init(id: id, node: node, type: request.type, sentAt: sim.now, life: model.crashes[node]!))
        return id
    }

    /// Hands every reply that has arrived to its client; a request whose node
    /// crashed before answering is lost. A client whose operation ended
    /// thinks for a while before the next.
    func pollClients() {
        let think = config.thinkTime
        for c in clients.indices {
            let wasWaiting = !clients[c].isIdle
            defer {
                if wasWaiting && clients[c].isIdle {
                    clients[c].readyAt = sim.now + random.nextDouble(from: think.lowerBound, to: think.upperBound)
                }
            }
            switch clients[c].waiting {
            case nil:
                continue
            case .get(let id, let node, let life, let key, let purpose):
                if let response = sim.reply(to: id, at: node) {
                    clients[c].waiting = nil
                    onGetReply(client: c, key: key, purpose: purpose, response)
                } else if model.crashes[node]! != life {
                    clients[c].waiting = nil
                    statistics.getsFailed += 1
                }
            case .put(let id, let node, let life, let index):
                if let response = sim.reply(to: id, at: node) {
                    clients[c].waiting = nil
                    onPutReply(write: index, response)
                } else if model.crashes[node]! != life {
                    clients[c].waiting = nil
                    model.writes[index].outcome = .lost
                    statistics.writesLost += 1
                }
            }
        }
    }

    func onGetReply(client c: Int, key: String, purpose: ClientState.Purpose, _ response: ClientResponse) {
        guard case .versions(let read)? = try? ClientReply(seed: response) else {
            statistics.getsFailed += 1
            return
        }
        let values = read.values.map(\.text)
        let metadata = read.metadata
        let joined = read.context
        statistics.getsAnswered += 1
        let joinedText = joined.isEmpty ? nil : Metadata.encode(joined)
        guard let node = pickNode() else { return }
        switch purpose {
        case .read:
            return
        case .modifyOne:
            let chosen = metadata.isEmpty ? nil : metadata[random.nextInt(below: metadata.count)]
            sendPut(client: c, key: key, value: "c\(c)w\(unique())", item: nil, metadata: chosen, at: node)
        case .modifyAll:
            sendPut(client: c, key: key, value: "c\(c)w\(unique())", item: nil, metadata: joinedText, at: node)
        case .delete:
            guard let joinedText, !read.isAbsent else { return }
            sendDelete(client: c, key: key, metadata: joinedText, at: node)
        case .cartAdd:
            let item = "c\(c)i\(unique())"
            sendPut(
                client: c, key: key, value: CartMerge.union(values + [item]), item: item, metadata: joinedText,
                at: node)
        }
    }

    func onPutReply(write index: Int, _ response: ClientResponse) {
        if case .written(let metadata, _)? = try? ClientReply(seed: response),
            let dot = CampaignModel.dot(ofMetadata: metadata)
        {
            model.writes[index].outcome = .acknowledged(metadata: metadata, dot: dot)
            statistics.writesAcknowledged += 1
        } else {
            model.writes[index].outcome = .failed("\(response.type) \(response.body.rendered)")
            statistics.writesFailed += 1
        }
    }
}

/// One logical client: idle, or waiting for the reply to one request.
struct ClientState {
    /// What a GET is for.
    enum Purpose {
        case read
        /// Then PUT with one returned sibling's metadata.
        case modifyOne
        /// Then PUT with the join of every returned context.
        case modifyAll
        /// Then PUT the items plus a fresh one with the joined context.
        case cartAdd
        /// Then DELETE with the joined context, if a live value was read.
        case delete
    }

    enum Waiting {
        case get(id: RequestID, node: String, life: Int, key: String, purpose: Purpose)
        case put(id: RequestID, node: String, life: Int, write: Int)
    }

    var waiting: Waiting?
    /// When an idle client starts its next operation.
    var readyAt: Double = 0

    var isIdle: Bool { waiting == nil }
}
