/// A peer's address, `host:port`. Peers are addressed by address, never by name.
public typealias Address = String

/// Identifies one client request at one node; the node's reply carries it back.
public typealias RequestID = UInt64

/// A client message as docs/protocol.md defines it: a type and a JSON body.
public struct ClientRequest: Hashable, Sendable {
    public var type: String
    public var body: JSON

    public init(type: String, body: JSON = .null) {
        self.type = type
        self.body = body
    }
}

/// A reply in the seed's JSON shapes (docs/protocol.md): a type and a JSON body.
/// Rendered from a `ClientReply` by `init(_:)`, in one place.
public struct ClientResponse: Hashable, Sendable {
    public typealias Failure = ClientReply.Failure

    public var type: String
    public var body: JSON
    /// Why an `ERROR` failed; nil for any other reply.
    public var failure: Failure?
    /// For a `PUT_RESP`: how many versions the key held at the coordinator
    /// once the write was stored there (Kvorum's addition, for sibling
    /// warnings); nil for any other reply.
    public var siblings: Int?

    public init(type: String, body: JSON, failure: Failure? = nil, siblings: Int? = nil) {
        self.type = type
        self.body = body
        self.failure = failure
        self.siblings = siblings
    }

    public static func error(_ text: String, _ failure: Failure = .badRequest) -> ClientResponse {
        ClientResponse(type: "ERROR", body: .string(text), failure: failure)
    }
}

/// Everything that can happen to a node. The current time comes with it.
public enum Event: Sendable, Hashable {
    /// The node process starts (also after a crash): restores timers. The
    /// seed's drivers send it; membership then waits for a JOIN.
    case start
    /// A server process starts (also after a crash): `start`, then the node
    /// decides how it rejoins. With a `contact` it joins that node's
    /// cluster; without one, a node that has never been a member starts a
    /// cluster of one, a member restarted on a new address announces it
    /// through a known member, and a member at its old address resumes.
    case boot(joining: Address?)
    /// A client request in the seed's JSON shapes: the node reads it with
    /// `ClientCommand(seed:)`, answers one it cannot read with an error, and
    /// does not acknowledge JOIN and LEAVE (the seed protocol has no answer).
    case client(RequestID, ClientRequest)
    /// A typed client command (the HTTP API): JOIN and LEAVE are answered
    /// `accepted` once started.
    case command(RequestID, ClientCommand)
    case peer(from: Address, PeerMessage)
    case timer(NodeTimer)
}

/// Everything a node asks its driver to do.
public enum Effect: Sendable, Hashable {
    case send(to: Address, PeerMessage)
    case reply(RequestID, ClientReply)
    /// Arms the timer; arming a timer that is pending re-arms it.
    case setTimer(NodeTimer, after: Double)
    case cancelTimer(NodeTimer)
}
