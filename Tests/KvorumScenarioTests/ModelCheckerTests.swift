import KvorumCore
import KvorumSimulation
import Testing

/// Exhaustive exploration of small scenarios: every delivery order of every
/// message, timers only when no message is in flight, invariants in every
/// state and final checks wherever nothing is left to do.
@Suite("Model checker")
struct ModelCheckerTests {
    /// A formed cluster of `count` nodes (anti-entropy and the view exchange
    /// off: their periodic rounds would never let the system come to rest).
    private func checker(nodes count: Int) -> ModelChecker {
        let names = (1...count).map { "node0\($0)" }
        let checker = ModelChecker(names: names) {
            $0.antiEntropyInterval = nil
            $0.viewExchangeInterval = nil
            $0.reaping = Reaping(grace: 1, interval: 2)
        }
        let contact = JSON.string(checker.world.address(of: names[0]))
        for name in names { checker.world.send(ClientRequest(type: "JOIN", body: contact), to: name) }
        checker.world.settle()
        for name in names {
            let id = checker.world.send(ClientRequest(type: "GET_MEMBERS"), to: name)
            #expect(checker.world.replies(to: id, at: name).first?.body == .array(names.map { .string($0) }))
        }
        checker.invariant = Self.oneReplyAtMost
        return checker
    }

    /// No request is answered twice and no answer comes unasked (JOIN and
    /// LEAVE are never answered, so any answer to one is unasked too).
    static func oneReplyAtMost(_ world: ModelChecker.World) -> [String] {
        world.names.flatMap { name -> [String] in
            let asked = Set(world.requests[name] ?? [])
            var seen: Set<RequestID> = []
            return (world.replies[name] ?? []).compactMap { reply in
                if !asked.contains(reply.id) { return "\(name) answered request \(reply.id) that nobody sent" }
                if !seen.insert(reply.id).inserted { return "\(name) answered request \(reply.id) twice" }
                return nil
            }
        }
    }

    /// Every request sent was answered.
    static func everyRequestAnswered(_ world: ModelChecker.World) -> [String] {
        world.names.flatMap { name in
            (world.requests[name] ?? []).filter { world.replies(to: $0, at: name).isEmpty }.map {
                "\(name) never answered request \($0)"
            }
        }
    }

    private func put(_ key: String, _ value: String, quorum: Int, metadata: String? = nil) -> ClientRequest {
        var body: [String: JSON] = ["key": .string(key), "value": .string(value), "quorum": .int(Int64(quorum))]
        if let metadata { body["metadata"] = .string(metadata) }
        return ClientRequest(type: "PUT", body: .object(body))
    }

    /// Writes `value` with quorum 3 through node01 and delivers everything:
    /// the starting version, whose metadata the scenario's writes carry.
    private func settledWrite(_ key: String, _ value: String, in c: ModelChecker) -> String? {
        let first = c.world.send(put(key, value, quorum: 3), to: "node01")
        c.world.settle()
        let metadata = c.world.replies(to: first, at: "node01").first?.body.stringValue
        if metadata == nil { Issue.record("setup write failed") }
        return metadata
    }

    /// Every request answered and every replica of `key` holding exactly the
    /// `expected` values (one version each).
    private func settles(_ key: String, to expected: [String], _ world: ModelChecker.World) -> [String] {
        var problems = Self.everyRequestAnswered(world)
        for node in replicas(key, world) where values(key, at: node, world).sorted() != expected.sorted() {
            problems.append("\(node) holds \(values(key, at: node, world))")
        }
        return problems
    }

    private func replicas(_ key: String, _ world: ModelChecker.World) -> [String] {
        Ring(members: world.names).replicas(for: Key(key), n: 3)
    }

    private func values(_ key: String, at node: String, _ world: ModelChecker.World) -> [String] {
        world.storages[node]!.record(for: Key(key))?.siblings.values ?? []
    }

    private func check(_ name: String, _ checker: ModelChecker, sourceLocation: SourceLocation = #_sourceLocation) {
        let clock = ContinuousClock()
        var report: ModelChecker.Report?
        let elapsed = clock.measure { report = checker.run() }
        guard let report else { return }
        print(
            "model checker, \(name): \(report.statesExplored) states, \(report.transitions) transitions, "
                + "\(report.finalStates) final, \(report.truncated) truncated, \(elapsed)")
        #expect(
            report.violations.isEmpty, "\(report.violations.joined(separator: "\n"))", sourceLocation: sourceLocation)
        #expect(report.truncated == 0, "exploration must be complete", sourceLocation: sourceLocation)
        #expect(report.finalStates > 0, sourceLocation: sourceLocation)
    }

    /// A q2 write and a concurrent q2 read of an empty system: in every order
    /// both are answered once; the read sees nothing or exactly the written
    /// version (same metadata); every replica ends with the value.
    @Test func quorumWriteAndReadOnAnEmptySystem() {
        let c = checker(nodes: 3)
        let key = "k"
        let write = c.world.send(put(key, "v", quorum: 2), to: "node01")
        let read = c.world.send(ClientRequest(type: "GET", body: ["key": "k", "quorum": 2]), to: "node02")
        c.finalCheck = { world in
            var problems = self.settles(key, to: ["v"], world)
            let written = world.replies(to: write, at: "node01").first
            let seen = world.replies(to: read, at: "node02").first
            if written?.type != "PUT_RESP" { problems.append("write answered \(String(describing: written))") }
            let empty: JSON = ["values": [], "metadata": []]
            let full: JSON = ["values": ["v"], "metadata": .array([written?.body ?? .null])]
            if seen?.body != empty && seen?.body != full { problems.append("read saw \(seen?.body.rendered ?? "-")") }
            return problems
        }
        check("q2 write + q2 read", c)
    }

    /// Two writes carrying the same context through the same coordinator,
    /// in every interleaving, both survive as siblings on every replica.
    @Test func concurrentWritesWithTheSameContextBothSurvive() {
        let c = checker(nodes: 3)
        let key = "k"
        guard let context = settledWrite(key, "v0", in: c) else { return }
        c.world.send(put(key, "a", quorum: 2, metadata: context), to: "node02")
        c.world.send(put(key, "b", quorum: 2, metadata: context), to: "node02")
        c.finalCheck = { world in self.settles(key, to: ["a", "b"], world) }
        check("same-context writes", c)
    }

    /// A q2 write while one replica is cut off succeeds through a stand-in;
    /// once the client has its answer the partition heals, and in every order
    /// of what follows the hint reaches the replica and no hint is left.
    @Test func sloppyQuorumThenHintedHandoffAfterHeal() {
        let c = checker(nodes: 4)
        let key = "k"
        let r = replicas(key, c.world)
        c.world.disconnect(r[2])
        let write = c.world.send(put(key, "v", quorum: 2), to: r[0])
        c.actions = [
            ModelChecker.ScriptedAction(
                name: "heal", when: { !$0.replies(to: write, at: r[0]).isEmpty }, perform: { $0.connect(r[2]) })
        ]
        c.finalCheck = { world in
            var problems = self.settles(key, to: ["v"], world)
            if world.replies(to: write, at: r[0]).first?.type != "PUT_RESP" { problems.append("write failed") }
            for node in world.names where !world.storages[node]!.hints().isEmpty {
                problems.append("\(node) still holds hints \(world.storages[node]!.hints())")
            }
            return problems
        }
        check("sloppy quorum + handoff", c)
    }

    /// Two concurrent cart updates from the same version through different
    /// coordinators end, in every order, as one merged cart on every replica.
    @Test func concurrentCartUpdatesMerge() {
        let c = checker(nodes: 3)
        let key = "cart-1"
        guard let context = settledWrite(key, "a", in: c) else { return }
        c.world.send(put(key, "a,b", quorum: 2, metadata: context), to: "node01")
        c.world.send(put(key, "a,c", quorum: 2, metadata: context), to: "node02")
        c.finalCheck = { world in self.settles(key, to: ["a,b,c"], world) }
        check("concurrent cart updates", c)
    }

    private func delete(_ key: String, quorum: Int, metadata: String) -> ClientRequest {
        ClientRequest(.delete(key: Key(key), quorum: quorum, context: try! Metadata.context(from: metadata)))
    }

    /// What `node` stores for `key`: its versions' texts, tombstones as `⊘`.
    private func stored(_ key: String, at node: String, _ world: ModelChecker.World) -> [String]? {
        world.storages[node]!.record(for: Key(key)).map { record in
            record.siblings.versions.map { $0.isTombstone ? "⊘" : $0.value }.sorted()
        }
    }

    /// A delete and a write made from the same read, through two
    /// coordinators: in every order the write survives next to the
    /// tombstone on every replica (no lost update), nothing is reaped, and
    /// every request is answered.
    @Test func deleteVersusPut() {
        let c = checker(nodes: 3)
        let key = "k"
        guard let context = settledWrite(key, "v0", in: c) else { return }
        c.world.send(delete(key, quorum: 2, metadata: context), to: "node01")
        c.world.send(put(key, "a", quorum: 2, metadata: context), to: "node02")
        c.finalCheck = { world in
            var problems = Self.everyRequestAnswered(world)
            for node in self.replicas(key, world) where self.stored(key, at: node, world) != ["a", "⊘"] {
                problems.append("\(node) holds \(self.stored(key, at: node, world) ?? [])")
            }
            return problems
        }
        check("delete vs put", c)
    }

    /// A replica is cut off before a delete: the others store the
    /// tombstone, the first replica runs four reaping checks (grace 1 s,
    /// every 2 s) while it is away, and it comes back. In every order of what follows, no state ever has
    /// the deleted value on one node while another has reaped the key, and
    /// at the end the key is gone from every node with no hint left.
    @Test func reapWhileAReplicaIsAway() {
        let c = checker(nodes: 3)
        let key = "k"
        guard let context = settledWrite(key, "v", in: c) else { return }
        let r = replicas(key, c.world)
        c.timersInDueOrder = true
        c.world.disconnect(r[2])
        let deletion = c.world.send(delete(key, quorum: 2, metadata: context), to: r[1])
        c.actions = [
            ModelChecker.ScriptedAction(
                name: "heal",
                when: { !$0.replies(to: deletion, at: r[1]).isEmpty && $0.now >= 9 },
                perform: { $0.connect(r[2]) })
        ]
        c.invariant = { world in
            var problems = Self.oneReplyAtMost(world)
            let holders = world.names.filter { self.stored(key, at: $0, world)?.contains("v") == true }
            let reaped = world.names.filter { self.stored(key, at: $0, world) == nil }
            if !holders.isEmpty && !reaped.isEmpty {
                problems.append("\(holders) hold the deleted value while \(reaped) reaped the key")
            }
            return problems
        }
        c.finalCheck = { world in
            var problems = Self.everyRequestAnswered(world)
            if world.replies(to: deletion, at: r[1]).first?.type != "PUT_RESP" { problems.append("delete failed") }
            for node in world.names {
                if let held = self.stored(key, at: node, world) { problems.append("\(node) still holds \(held)") }
                if !world.storages[node]!.hints().isEmpty { problems.append("\(node) still holds hints") }
            }
            return problems
        }
        check("reap while a replica is away", c)
    }
}
