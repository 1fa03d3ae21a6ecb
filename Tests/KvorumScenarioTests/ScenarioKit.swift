import KvorumCore
import KvorumSimulation
import KvorumStdio
import KvorumTestKit
import Testing

/// How a scenario's network behaves: the course harness's fixed 0.1 s per
/// message, or delays drawn uniformly from [0.01, 0.1] s with a given seed.
///
/// `.harnessOverStdio` is the harness timing with every event and effect
/// passed through the stdio protocol's JSON codec, as under the dslib bridge.
enum Timing: Sendable, CustomTestStringConvertible {
    case harness
    case harnessOverStdio
    case random(seed: UInt64)

    var network: NetworkConfig {
        switch self {
        case .harness, .harnessOverStdio: .harness
        case .random: NetworkConfig(delay: .uniform(0.01, 0.1))
        }
    }

    var seed: UInt64 {
        switch self {
        case .harness, .harnessOverStdio: 0
        case .random(let seed): seed
        }
    }

    var factory: NodeFactory {
        switch self {
        case .harnessOverStdio: { CodecNode(KvorumNode(config: $0, storage: $1)) }
        case .harness, .random: { KvorumNode(config: $0, storage: $1) }
        }
    }

    var testDescription: String {
        switch self {
        case .harness: "harness timing"
        case .harnessOverStdio: "harness timing, through the stdio codec"
        case .random(let seed): "random delays, seed \(seed)"
        }
    }

    /// The original timing (directly and through the stdio codec) plus 20
    /// random-delay seeds.
    static let all: [Timing] = [.harness, .harnessOverStdio] + (1...20).map { .random(seed: $0) }
}

/// A node behind the stdio wire format: each event is encoded to its JSON
/// line and decoded again before the node sees it, and so are its effects.
final class CodecNode: SimulatedNode {
    let node: KvorumNode

    init(_ node: KvorumNode) { self.node = node }

    func handle(_ event: Event, now: Double) -> [Effect] {
        do {
            let decoded = try StdioProtocol.decodeEvent(StdioProtocol.encode(.init(event, time: now)))
            let effects = node.handle(decoded.event, now: decoded.time)
            return try StdioProtocol.decodeEffects(StdioProtocol.encode(effects))
        } catch {
            Issue.record("stdio codec failed: \(error)")
            return []
        }
    }
}

/// The answer of a GET: values and their metadata, index by index.
struct ReadResult: Equatable {
    var values: [String]
    var metadata: [String]

    var valueSet: Set<String> { Set(values) }
    var metadataSet: Set<String> { Set(metadata) }
}

/// A simulated cluster with the seed harness's vocabulary: nodes `node01`…,
/// client requests that must be answered within a (virtual) time limit, and
/// the trace printed when a check fails.
final class Cluster {
    let sim: Simulation
    let names: [String]

    /// - Parameter network: replaces the timing's network model (e.g. cuts that hold messages).
    init(
        nodes count: Int, timing: Timing, network: NetworkConfig? = nil,
        configure: (inout NodeConfig) -> Void = { _ in }
    ) {
        sim = Simulation(seed: timing.seed, network: network ?? timing.network, factory: timing.factory)
        names = (1...count).map { "node" + ($0 < 10 ? "0" : "") + String($0) }
        for name in names { sim.addNode(name: name, configure: configure) }
    }

    /// Records a failure with the whole trace, so a failing seed can be read.
    func fail(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        Issue.record(Comment(rawValue: message + "\n--- trace ---\n" + sim.traceText), sourceLocation: sourceLocation)
    }

    /// Every node joins through `contact`; returns once all agree on the members.
    func form(
        _ members: [String]? = nil, via contact: String = "node01", sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let members = members ?? names
        if !sim.formCluster(members, via: contact) {
            fail("cluster \(members) did not form", sourceLocation: sourceLocation)
        }
    }

    func send(_ type: String, _ body: JSON = .null, to node: String) {
        sim.send(ClientRequest(type: type, body: body), to: node)
    }

    func request(
        _ type: String, _ body: JSON = .null, at node: String, timeLimit: Double = 1.0,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> ClientResponse? {
        let response = sim.request(ClientRequest(type: type, body: body), at: node, timeLimit: timeLimit)
        if response == nil {
            fail("\(type) at \(node) got no reply within \(timeLimit) s", sourceLocation: sourceLocation)
        }
        return response
    }

    func get(
        _ key: String, at node: String, quorum: Int, timeLimit: Double = 1.0,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> ReadResult? {
        guard
            let response = request(
                "GET", ["key": .string(key), "quorum": .int(Int64(quorum))], at: node, timeLimit: timeLimit,
                sourceLocation: sourceLocation)
        else { return nil }
        guard response.type == "GET_RESP", case .array(let values)? = response.body["values"],
            case .array(let metadata)? = response.body["metadata"]
        else {
            fail(
                "GET \(key) at \(node) answered \(response.type) \(response.body.rendered)",
                sourceLocation: sourceLocation)
            return nil
        }
        return ReadResult(values: values.compactMap(\.stringValue), metadata: metadata.compactMap(\.stringValue))
    }

    @discardableResult
    func put(
        _ key: String, _ value: String, at node: String, quorum: Int, metadata: String? = nil,
        timeLimit: Double = 1.0, sourceLocation: SourceLocation = #_sourceLocation
    ) -> String? {
        var body: [String: JSON] = ["key": .string(key), "value": .string(value), "quorum": .int(Int64(quorum))]
        if let metadata { body["metadata"] = .string(metadata) }
        guard
            let response = request(
                "PUT", .object(body), at: node, timeLimit: timeLimit, sourceLocation: sourceLocation)
        else { return nil }
        guard response.type == "PUT_RESP", let meta = response.body.stringValue else {
            fail(
                "PUT \(key) at \(node) answered \(response.type) \(response.body.rendered)",
                sourceLocation: sourceLocation)
            return nil
        }
        return meta
    }

    /// The key's replicas as `node` reports them (LOOKUP).
    func replicas(of key: String, at node: String = "node01", sourceLocation: SourceLocation = #_sourceLocation)
        -> [String]
    {
        guard let names = sim.lookup(key, at: node) else {
            fail("LOOKUP \(key) at \(node) failed", sourceLocation: sourceLocation)
            return []
        }
        return names
    }

    func nonReplicas(of key: String, among nodes: [String]? = nil) -> [String] {
        let replicas = replicas(of: key)
        return (nodes ?? names).filter { !replicas.contains($0) }
    }
}

/// A fixed-seed generator for test keys (SplitMix64), so every run picks the same keys.
struct KeyGenerator {
    private var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { random.next() }

    mutating func keys(_ count: Int, prefix: String = "key") -> [String] {
        (0..<count).map { _ in "\(prefix)-\(next() % 1_000_000_000)" }
    }
}
