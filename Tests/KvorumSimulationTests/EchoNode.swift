import KvorumCore
import KvorumSimulation
import Testing

/// A tiny node for testing the simulator without the real one. It records
/// everything it receives and understands a few client requests:
///
/// - `PING` (body: an address) sends `read` there; the peer answers `readReply`
///   and the node then replies `PONG` to the client.
/// - `SEND` (`{"to": address, "count": n}`) sends `writeAck` ops 1...n; replies `SENT`.
/// - `TIMER` (`{"name": s, "after": seconds}`) arms the timer named `s` (a
///   `NodeTimer` name); `CANCEL` (a name) cancels one; `TICK` (seconds) starts
///   a timer that re-arms itself forever.
/// - `LATER` (seconds) replies `DONE` after that long; `ECHO` replies at once;
///   `TWICE` replies twice. Replies are `answer(label, detail)`.
final class EchoNode: SimulatedNode {
    let config: NodeConfig
    let storage: any Storage
    private(set) var received: [(time: Double, from: Address, body: PeerBody)] = []
    private(set) var firedTimers: [(time: Double, timer: NodeTimer)] = []
    private(set) var startedAt: Double?
    private var tickInterval = 0.0

    init(config: NodeConfig, storage: any Storage) {
        self.config = config
        self.storage = storage
    }

    /// The `op` of every `writeAck` received, in arrival order.
    var receivedOps: [UInt64] {
        received.compactMap { if case .writeAck(let op) = $0.body { op } else { nil } }
    }

    func handle(_ event: Event, now: Double) -> [Effect] {
        switch event {
        case .start, .boot:
            startedAt = now
            _ = storage.nextEpoch()
            return []
        case .client(let id, let request):
            return handleClient(id, request)
        case .command(let id, let command):
            return handleClient(id, ClientRequest(command))
        case .peer(let from, let message):
            received.append((now, from, message.body))
            switch message.body {
            case .read(let op, _):
                return [.send(to: from, peerMessage(.readReply(op: op, siblings: SiblingSet())))]
            case .readReply(let op, _):
                return [.reply(op, Self.answer("PONG", from))]
            default:
                return []
            }
        case .timer(let timer):
            firedTimers.append((now, timer))
            switch timer {
            case Self.tick: return [.setTimer(Self.tick, after: tickInterval)]
            case .operation(let id): return [.reply(id, Self.answer("DONE"))]
            default: return []
            }
        }
    }

    private func handleClient(_ id: RequestID, _ request: ClientRequest) -> [Effect] {
        let ok = Effect.reply(id, Self.answer("OK"))
        switch request.type {
        case "PING":
            guard let address = request.body.stringValue else { break }
            return [.send(to: address, peerMessage(.read(op: id, key: "ping")))]
        case "SEND":
            guard let address = request.body["to"]?.stringValue, let count = request.body["count"]?.number else {
                break
            }
            let sends = (0..<Int(count)).map { Effect.send(to: address, peerMessage(.writeAck(op: UInt64($0 + 1)))) }
            return sends + [.reply(id, Self.answer("SENT"))]
        case "TIMER":
            guard let name = request.body["name"]?.stringValue, let timer = NodeTimer(name: name),
                let after = request.body["after"]?.number
            else {
                break
            }
            return [.setTimer(timer, after: after), ok]
        case "CANCEL":
            guard let name = request.body.stringValue, let timer = NodeTimer(name: name) else { break }
            return [.cancelTimer(timer), ok]
        case "TICK":
            guard let interval = request.body.number else { break }
            tickInterval = interval
            return [.setTimer(Self.tick, after: interval), ok]
        case "LATER":
            guard let after = request.body.number else { break }
            return [.setTimer(.operation(id), after: after)]
        case "ECHO":
            return [.reply(id, Self.answer("ECHO", request.body.rendered))]
        case "TWICE":
            return [ok, ok]
        case "WORK":
            guard let rows = request.body["rows"]?.number else { break }
            for row in 0..<Int(rows) { _ = storage.record(for: Key("row-\(row)")) }
            let ping = request.body["to"]?.stringValue.map {
                Effect.send(to: $0, peerMessage(.read(op: id, key: "work")))
            }
            return (ping.map { [$0] } ?? []) + [.reply(id, Self.answer("WORKED"))]
        default:
            break
        }
        return [.reply(id, .refused("bad request"))]
    }

    /// A reply of this node: the core's replies are typed, so the echo node's
    /// own answers travel as a key list `[label, detail]` (see `echoLabel`).
    static func answer(_ label: String, _ detail: String = "") -> ClientReply { .keys([Key(label), Key(detail)]) }

    /// The timer `TICK` re-arms (any timer of the core's vocabulary will do).
    private static let tick = NodeTimer.viewExchange

    private func peerMessage(_ body: PeerBody) -> PeerMessage {
        PeerMessage(from: config.name, viewDigest: 0, body: body)
    }
}

extension JSON {
    /// The value of an integer or a number.
    var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }
}

/// A simulation of `count` echo nodes named `node01`...
func echoSimulation(nodes count: Int = 2, seed: UInt64 = 1, network: NetworkConfig = .harness) -> Simulation {
    let sim = Simulation(seed: seed, network: network) { EchoNode(config: $0, storage: $1) }
    for index in 1...count {
        sim.addNode(name: "node" + (index < 10 ? "0" : "") + String(index))
    }
    return sim
}

extension Simulation {
    /// The echo node running under `name`; fails the test if it is down.
    func echo(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> EchoNode {
        try #require(node(name) as? EchoNode, sourceLocation: sourceLocation)
    }

    /// Asks node `from` to send `count` numbered `writeAck`s to node `to`.
    func sendOps(_ count: Int, from: String, to: String) {
        let body: JSON = ["to": .string(address(of: to)), "count": .int(Int64(count))]
        send(ClientRequest(type: "SEND", body: body), to: from)
    }

    /// Asks node `name` to read `rows` rows, then send `read` to node `to`.
    func work(_ rows: Int, at name: String, thenPing to: String? = nil) {
        var body: [String: JSON] = ["rows": .int(Int64(rows))]
        if let to { body["to"] = .string(address(of: to)) }
        send(ClientRequest(type: "WORK", body: .object(body)), to: name)
    }

    /// Asks node `name` to arm timer `timer`.
    func arm(_ timer: String, after: Double, at name: String) {
        send(ClientRequest(type: "TIMER", body: ["name": .string(timer), "after": .double(after)]), to: name)
    }
}

extension ClientResponse {
    /// The label of an `EchoNode.answer`, e.g. `PONG`.
    var echoLabel: String? { echoFields?.label }
    /// The detail of an `EchoNode.answer`, e.g. the address that answered a ping.
    var echoDetail: String? { echoFields?.detail }

    private var echoFields: (label: String, detail: String)? {
        guard case .array(let items) = body, items.count == 2, let label = items[0].stringValue,
            let detail = items[1].stringValue
        else { return nil }
        return (label, detail)
    }
}
