import ArgumentParser
import KvorumCore
import KvorumSimulation

/// `kvorum demo`: a scripted run of six simulated nodes that take writes
/// through a partition and heal, narrated step by step.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scripted 6-node cluster in the deterministic simulator and narrate it."
    )

    @Option(help: "Seed of the simulated network (same seed, same run).")
    var seed: UInt64 = 1

    @Flag(help: "Also print every simulated event.")
    var trace = false

    func run() throws {
        let sim = Simulation(seed: seed, network: NetworkConfig(delay: .uniform(0.01, 0.1)))
        sim.echoTrace = trace
        let names = (1...6).map { "node0\($0)" }
        for name in names { sim.addNode(name: name) }
        say("Six nodes join through node01.")
        guard sim.formCluster(names, via: "node01") else { throw ValidationError("the cluster did not form") }
        say("Members at node04: \(sim.members(at: "node04") ?? [])")

        let key = "cart-demo"
        let replicas = sim.lookup(key, at: "node01") ?? []
        let others = names.filter { !replicas.contains($0) }
        say("'\(key)' lives on \(replicas.joined(separator: ", ")) (LOOKUP).")

        let first = put(sim, key, "bread", at: others[0], quorum: 2)
        say("PUT bread (q2) through non-replica \(others[0]) → metadata \(first ?? "-")")

        sim.partition([others[0], others[1], replicas[0]], [others[2], replicas[1], replicas[2]])
        say("Partition: {\(others[0]), \(others[1]), \(replicas[0])} | {\(others[2]), \(replicas[1]), \(replicas[2])}")
        let left = put(sim, key, "bread,milk", at: others[0], quorum: 2, metadata: first, timeLimit: 10)
        say("Side 1 adds milk via \(others[0]) (sloppy quorum) → \(left ?? "failed")")
        let right = put(sim, key, "bread,eggs", at: others[2], quorum: 2, metadata: first, timeLimit: 10)
        say("Side 2 adds eggs via \(others[2]) → \(right ?? "failed")")
        say(
            "Stand-ins hold hints: " + names.map { "\($0)=\(sim.storage(of: $0).hints().count)" }.joined(separator: " ")
        )

        sim.resetNetwork()
        sim.run(for: 5)
        say(
            "Healed; 5 s later hints pending: "
                + names.map { "\($0)=\(sim.storage(of: $0).hints().count)" }.joined(separator: " "))
        for node in [others[0], others[2]] {
            if let response = sim.request(
                ClientRequest(type: "GET", body: ["key": .string(key), "quorum": 3]), at: node)
            {
                say("GET (q3) at \(node) → \(response.body["values"]?.rendered ?? response.body.rendered)")
            }
        }
        say(
            "Both sides' items survive in one merged cart; \(sim.eventsProcessed) events, \(sim.messagesSent) messages."
        )
    }

    private func put(
        _ sim: Simulation, _ key: String, _ value: String, at node: String, quorum: Int, metadata: String? = nil,
        timeLimit: Double = 1
    ) -> String? {
        var body: [String: JSON] = ["key": .string(key), "value": .string(value), "quorum": .int(Int64(quorum))]
        if let metadata { body["metadata"] = .string(metadata) }
        return sim.request(ClientRequest(type: "PUT", body: .object(body)), at: node, timeLimit: timeLimit)?.body
            .stringValue
    }

    private func say(_ line: String) {
        print(line)
    }
}
