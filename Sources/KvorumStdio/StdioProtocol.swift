import Foundation
import KvorumCore

/// The JSON-lines codec of `kvorum node --stdio` (docs/stdio-protocol.md):
/// events in, one effects line out per event. Both directions are here, so
/// drivers and tests share one definition of the wire format.
public enum StdioProtocol {
    public static let version = 1

    /// A line that is not a valid event or effects line.
    public struct LineError: Error, Equatable, CustomStringConvertible {
        public var description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// What the driver asked and when.
    public struct TimedEvent: Equatable, Sendable {
        public var event: Event
        public var time: Double

        public init(_ event: Event, time: Double) {
            self.event = event
            self.time = time
        }
    }

    // MARK: Handshake

    public static func handshake(name: String, address: Address) -> String {
        render(Handshake(ready: .init(protocol: version, name: name, address: address)))
    }

    public static func decodeHandshake(_ line: String) throws(LineError) -> (name: String, address: Address) {
        let handshake = try decode(Handshake.self, line, what: "handshake line")
        return (handshake.ready.name, handshake.ready.address)
    }

    // MARK: Events

    public static func encode(_ event: TimedEvent) -> String {
        var line = EventLine(event: "", time: event.time)
        switch event.event {
        case .start:
            line.event = "start"
        case .boot(let contact):
            line.event = "boot"
            line.contact = contact
        case .client(let id, let request):
            line.event = "client"
            line.id = id
            line.type = request.type
            line.body = request.body
        case .command(let id, let command):
            // The bridge speaks the seed's shapes: a typed command travels as
            // its seed request.
            let request = ClientRequest(command)
            line.event = "client"
            line.id = id
            line.type = request.type
            line.body = request.body
        case .peer(let from, let message):
            line.event = "peer"
            line.from = from
            line.message = message
        case .timer(let name):
            line.event = "timer"
            line.name = name
        }
        return render(line)
    }

    public static func decodeEvent(_ line: String) throws(LineError) -> TimedEvent {
        let decoded = try decode(EventLine.self, line, what: "event line")
        guard decoded.time.isFinite else { throw LineError(description: "event time must be a finite number") }
        switch decoded.event {
        case "start":
            return TimedEvent(.start, time: decoded.time)
        case "boot":
            return TimedEvent(.boot(joining: decoded.contact), time: decoded.time)
        case "client":
            let id = try required(decoded.id, "id", of: "client")
            let type = try required(decoded.type, "type", of: "client")
            return TimedEvent(.client(id, ClientRequest(type: type, body: decoded.body ?? .null)), time: decoded.time)
        case "peer":
            let from = try required(decoded.from, "from", of: "peer")
            let message = try required(decoded.message, "message", of: "peer")
            return TimedEvent(.peer(from: from, message), time: decoded.time)
        case "timer":
            return TimedEvent(.timer(try required(decoded.name, "name", of: "timer")), time: decoded.time)
        default:
            throw LineError(description: "unknown event kind '\(decoded.event)' (start, boot, client, peer, timer)")
        }
    }

    // MARK: Effects

    public static func encode(_ effects: [Effect]) -> String {
        render(EffectsLine(effects: effects.map(EffectItem.init), error: nil))
    }

    public static func encodeError(_ reason: String) -> String {
        render(EffectsLine(effects: [], error: reason))
    }

    /// Decodes an effects line; a line carrying an error throws it.
    public static func decodeEffects(_ line: String) throws(LineError) -> [Effect] {
        let decoded = try decode(EffectsLine.self, line, what: "effects line")
        if let error = decoded.error { throw LineError(description: error) }
        return try decoded.effects.map { item throws(LineError) in try item.effect() }
    }

    // MARK: Wire shapes

    private struct Handshake: Codable {
        struct Ready: Codable {
            var `protocol`: Int
            var name: String
            var address: String
        }
        var ready: Ready
    }

    private struct EventLine: Codable {
        var event: String
        var time: Double
        var id: UInt64?
        var type: String?
        var body: JSON?
        var from: String?
        var message: PeerMessage?
        var name: NodeTimer?
        /// For `boot`: the contact to join, if any.
        var contact: String?
    }

    private struct EffectsLine: Codable {
        var effects: [EffectItem]
        var error: String?
    }

    private struct EffectItem: Codable {
        struct Send: Codable {
            var to: String
            var type: String
            var message: PeerMessage
        }
        struct Reply: Codable {
            var id: UInt64
            var type: String
            var body: JSON
            /// For an `ERROR`: `unavailable` when the request may succeed
            /// later, `badRequest` when it cannot.
            var failure: ClientReply.Failure?
            /// For a `PUT_RESP`: the key's versions at the coordinator after the write.
            var siblings: Int?
        }
        struct SetTimer: Codable {
            var name: NodeTimer
            var after: Double
        }
        struct CancelTimer: Codable {
            var name: NodeTimer
        }

        var send: Send?
        var reply: Reply?
        var setTimer: SetTimer?
        var cancelTimer: CancelTimer?

        init(_ effect: Effect) {
            switch effect {
            case .send(let to, let message):
                send = Send(to: to, type: message.body.kind, message: message)
            case .reply(let id, let answer):
                let response = ClientResponse(answer)
                reply = Reply(
                    id: id, type: response.type, body: response.body,
                    failure: response.failure, siblings: response.siblings)
            case .setTimer(let name, let after):
                setTimer = SetTimer(name: name, after: after)
            case .cancelTimer(let name):
                cancelTimer = CancelTimer(name: name)
            }
        }

        func effect() throws(LineError) -> Effect {
            if let send { return .send(to: send.to, send.message) }
            if let reply {
                do {
                    return .reply(
                        reply.id,
                        try ClientReply(
                            seed: ClientResponse(
                                type: reply.type, body: reply.body, failure: reply.failure, siblings: reply.siblings)))
                } catch {
                    throw LineError(description: "bad reply: \(error.reason)")
                }
            }
            if let setTimer { return .setTimer(setTimer.name, after: setTimer.after) }
            if let cancelTimer { return .cancelTimer(cancelTimer.name) }
            throw LineError(description: "an effect needs one of send, reply, setTimer, cancelTimer")
        }
    }

    private static func required<T>(_ value: T?, _ field: String, of kind: String) throws(LineError) -> T {
        guard let value else { throw LineError(description: "\(kind) event needs field '\(field)'") }
        return value
    }

    private static func render<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every shape here is plain data: encoding cannot fail.
        let data = try! encoder.encode(value)
        return String(decoding: data, as: UTF8.self)
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ line: String, what: String) throws(LineError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(line.utf8))
        } catch let error as DecodingError {
            throw LineError(description: "bad \(what): \(describe(error))")
        } catch {
            throw LineError(description: "bad \(what): \(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            return keys.isEmpty ? "" : " at '" + keys.joined(separator: ".") + "'"
        }
        switch error {
        case .dataCorrupted(let context): return "not JSON" + path(context)
        case .keyNotFound(let key, let context): return "missing field '\(key.stringValue)'" + path(context)
        case .typeMismatch(_, let context): return "wrong type" + path(context)
        case .valueNotFound(_, let context): return "missing value" + path(context)
        @unknown default: return "undecodable"
        }
    }
}
