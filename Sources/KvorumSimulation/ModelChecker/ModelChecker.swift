import KvorumCore

/// An exhaustive explorer of small Kvorum scenarios (TLC-style explicit-state
/// model checking over the real core).
///
/// From a starting cluster it tries every order in which the messages in
/// flight can be delivered, and fires timers only when no message is in
/// flight ("messages before timers": a network faster than every timeout,
/// losses only where a node is cut off), in any order or, with
/// `timersInDueOrder`, in the order of their due times. Each reached state is a copy of every
/// node and store, the messages in flight and the timers; states are hashed
/// (with times taken relative to the current time) so a state reached twice is
/// explored once. Invariants are checked in every state, the final checks in
/// every state with nothing left to do.
public final class ModelChecker {
    /// One cluster state: nodes, stores, network and clients.
    public final class World {
        public let names: [String]
        public fileprivate(set) var nodes: [String: KvorumNode]
        public fileprivate(set) var storages: [String: MemoryStorage]
        let addresses: [String: String]
        let nameByAddress: [String: String]
        fileprivate var inFlight: [(from: String, to: String, message: PeerMessage)] = []
        fileprivate var timers: [String: [NodeTimer: Double]] = [:]
        public fileprivate(set) var now: Double = 0
        /// Client replies so far, per node, in order.
        public fileprivate(set) var replies: [String: [(id: RequestID, response: ClientResponse)]] = [:]
        /// Requests sent that expect an answer (all but JOIN and LEAVE), per node.
        public fileprivate(set) var requests: [String: [RequestID]] = [:]
        public fileprivate(set) var disconnected: Set<String> = []
        fileprivate var nextRequest: RequestID = 1
        fileprivate var scriptDone: [Bool] = []

        init(names: [String], configure: (inout NodeConfig) -> Void) {
            self.names = names
            var addresses: [String: String] = [:]
            for (i, name) in names.enumerated() { addresses[name] = "127.0.0.1:\(9701 + i)" }
            self.addresses = addresses
            nameByAddress = Dictionary(uniqueKeysWithValues: addresses.map { ($1, $0) })
            nodes = [:]
            storages = [:]
            for name in names {
                var config = NodeConfig(name: name, address: addresses[name]!)
                configure(&config)
                let storage = MemoryStorage()
                storages[name] = storage
                nodes[name] = KvorumNode(config: config, storage: storage)
                apply(name, nodes[name]!.handle(.start, now: now))
            }
        }

        private init(copying other: World) {
            names = other.names
            addresses = other.addresses
            nameByAddress = other.nameByAddress
            var storages: [String: MemoryStorage] = [:]
            var nodes: [String: KvorumNode] = [:]
            for name in other.names {
                let storage = other.storages[name]!.copy()
                storages[name] = storage
                nodes[name] = KvorumNode(copying: other.nodes[name]!, storage: storage)
            }
            self.storages = storages
            self.nodes = nodes
            inFlight = other.inFlight
            timers = other.timers
            now = other.now
            replies = other.replies
            requests = other.requests
            disconnected = other.disconnected
            nextRequest = other.nextRequest
            scriptDone = other.scriptDone
        }

        func copy() -> World { World(copying: self) }

        /// Sends a client request; the node handles it at once.
        @discardableResult
        public func send(_ request: ClientRequest, to name: String) -> RequestID {
            let id = nextRequest
            nextRequest += 1
            if request.type != "JOIN" && request.type != "LEAVE" { requests[name, default: []].append(id) }
            apply(name, nodes[name]!.handle(.client(id, request), now: now))
            return id
        }

        public func address(of name: String) -> String { addresses[name]! }

        public func disconnect(_ name: String) { disconnected.insert(name) }

        public func connect(_ name: String) { disconnected.remove(name) }

        /// The replies `name` gave to request `id`.
        public func replies(to id: RequestID, at name: String) -> [ClientResponse] {
            (replies[name] ?? []).filter { $0.id == id }.map(\.response)
        }

        /// Delivers everything in flight and fires timers, oldest first, until
        /// nothing is left or `limit` events ran: the deterministic path used to
        /// set a scenario up.
        public func settle(limit: Int = 10_000) {
            var steps = 0
            while steps < limit {
                if !inFlight.isEmpty {
                    deliver(0)
                } else if let (node, timer) = nextTimer() {
                    fire(node, timer)
                } else {
                    return
                }
                steps += 1
            }
        }

        fileprivate var isQuiet: Bool { inFlight.isEmpty && timers.values.allSatisfy(\.isEmpty) }

        fileprivate func nextTimer() -> (String, NodeTimer)? {
            var best: (String, NodeTimer, Double)?
            for node in names {
                for (name, due) in (timers[node] ?? [:]).sorted(by: { byteOrder($0.key.name, $1.key.name) })
                where best == nil || due < best!.2 {
                    best = (node, name, due)
                }
            }
            return best.map { ($0.0, $0.1) }
        }

        fileprivate func deliver(_ index: Int) {
            let (from, to, message) = inFlight.remove(at: index)
            guard !disconnected.contains(from), !disconnected.contains(to) else { return }
            apply(to, nodes[to]!.handle(.peer(from: addresses[from]!, message), now: now))
        }

        fileprivate func fire(_ node: String, _ timer: NodeTimer) {
            guard let due = timers[node]?.removeValue(forKey: timer) else { return }
            now = max(now, due)
            apply(node, nodes[node]!.handle(.timer(timer), now: now))
        }

        fileprivate func apply(_ node: String, _ effects: [Effect]) {
            for effect in effects {
                switch effect {
                case .send(let address, let message):
                    guard let target = nameByAddress[address],
                        !disconnected.contains(node), !disconnected.contains(target)
                    else { continue }
                    inFlight.append((node, target, message))
                case .reply(let id, let reply):
                    let response = ClientResponse(reply)
                    replies[node, default: []].append((id, response))
                case .setTimer(let name, let after):
                    timers[node, default: [:]][name] = now + after
                case .cancelTimer(let name):
                    timers[node]?[name] = nil
                }
            }
        }

        /// Everything that decides what happens next, with times relative to
        /// now: two worlds with equal fingerprints explore the same futures.
        fileprivate struct Fingerprint: Hashable {
            struct Message: Hashable {
                var from: String
                var to: String
                var message: PeerMessage
            }
            struct Reply: Hashable {
                var id: RequestID
                var response: ClientResponse
            }
            var disconnected: Set<String>
            var scriptDone: [Bool]
            var nodes: [NodeFingerprint]
            var stores: [MemoryStorage.Contents]
            var timers: [[NodeTimer: Double]]
            var replies: [[Reply]]
            /// Messages in flight as a multiset: their order is explored anyway.
            var inFlight: [Message: Int]
        }

        fileprivate var fingerprint: Fingerprint {
            var inFlight: [Fingerprint.Message: Int] = [:]
            for (from, to, message) in self.inFlight {
                inFlight[Fingerprint.Message(from: from, to: to, message: message), default: 0] += 1
            }
            return Fingerprint(
                disconnected: disconnected, scriptDone: scriptDone,
                nodes: names.map { nodes[$0]!.fingerprint },
                stores: names.map { storages[$0]!.contents },
                timers: names.map { (timers[$0] ?? [:]).mapValues { $0 - now } },
                replies: names.map { (replies[$0] ?? []).map { Fingerprint.Reply(id: $0.id, response: $0.response) } },
                inFlight: inFlight)
        }
    }

    /// A scripted action taken once, as soon as its condition holds (e.g.
    /// healing a partition once the client has its answer): in a state where
    /// it is due it is the only move, so the periodic timers of a partitioned
    /// cluster cannot loop forever before it.
    public struct ScriptedAction {
        public var name: String
        public var when: (World) -> Bool
        public var perform: (World) -> Void

        public init(name: String, when: @escaping (World) -> Bool, perform: @escaping (World) -> Void) {
            self.name = name
            self.when = when
            self.perform = perform
        }
    }

    public struct Report: Sendable {
        public var statesExplored: Int
        public var transitions: Int
        public var finalStates: Int
        /// States cut off at the depth bound (0 means the exploration was complete).
        public var truncated: Int
        public var violations: [String]
    }

    public let world: World
    public var actions: [ScriptedAction] = []
    /// Checked in every reached state.
    public var invariant: (World) -> [String] = { _ in [] }
    /// Checked in every state where nothing is left to do.
    public var finalCheck: (World) -> [String] = { _ in [] }
    public var maxDepth = 200
    public var maxStates = 500_000
    /// Whether only the timers due first may fire (ties in every order),
    /// as a clock shared by the nodes makes them, instead of any armed
    /// timer. Needed where periodic timers that number their rounds (hinted
    /// handoff, reaping) keep firing while a node is away: fired in any
    /// order, one of them could fire without end before the others.
    public var timersInDueOrder = false

    /// A cluster of `names` built with `configure`; set it up through
    /// `world` (send requests, `settle()`) before calling `run()`.
    public init(names: [String], configure: (inout NodeConfig) -> Void = { _ in }) {
        world = World(names: names, configure: configure)
    }

    /// Explores every reachable state depth-first; stops at the first violations.
    public func run() -> Report {
        world.scriptDone = Array(repeating: false, count: actions.count)
        var report = Report(statesExplored: 0, transitions: 0, finalStates: 0, truncated: 0, violations: [])
        var visited: Set<World.Fingerprint> = [world.fingerprint]
        var stack: [(World, Int, [String])] = [(world, 0, [])]
        while let (state, depth, path) = stack.popLast() {
            report.statesExplored += 1
            let problems = invariant(state)
            if !problems.isEmpty {
                report.violations = problems.map { $0 + "\n  after: " + path.joined(separator: " → ") }
                return report
            }
            let moves = successors(of: state)
            if moves.isEmpty {
                report.finalStates += 1
                let final = finalCheck(state)
                if !final.isEmpty {
                    report.violations = final.map { $0 + "\n  after: " + path.joined(separator: " → ") }
                    return report
                }
                continue
            }
            if depth >= maxDepth || report.statesExplored >= maxStates {
                report.truncated += 1
                continue
            }
            for (label, next) in moves.reversed() {
                report.transitions += 1
                if visited.insert(next.fingerprint).inserted {
                    stack.append((next, depth + 1, path + [label]))
                }
            }
        }
        return report
    }

    /// Every distinct next state: a scripted action whose time has come, else
    /// each distinct message in flight, or, when none is in flight, each timer.
    private func successors(of state: World) -> [(String, World)] {
        var result: [(String, World)] = []
        for (i, action) in actions.enumerated() where !state.scriptDone[i] && action.when(state) {
            let next = state.copy()
            next.scriptDone[i] = true
            action.perform(next)
            return [(action.name, next)]
        }
        if !state.inFlight.isEmpty {
            var seen: Set<String> = []
            for (i, flight) in state.inFlight.enumerated() {
                let id = "\(flight.from)>\(flight.to) \(WireCodec.encode(flight.message))"
                guard seen.insert(id).inserted else { continue }
                let next = state.copy()
                next.deliver(i)
                result.append(("\(flight.from)→\(flight.to):\(flight.message.body.kind)", next))
            }
            return result
        }
        let firstDue = state.timers.values.flatMap(\.values).min()
        for node in state.names {
            for (timer, due) in (state.timers[node] ?? [:]).sorted(by: { byteOrder($0.key.name, $1.key.name) })
            where !timersInDueOrder || due == firstDue {
                let next = state.copy()
                next.fire(node, timer)
                result.append(("\(node)⏰\(timer)", next))
            }
        }
        return result
    }
}
