/// A peer's address, `host:port`. Peers are addressed by address, never by name.
public typealias Address = String

/// Identifies one client request at one node; the node's reply carries it back.
public typealias RequestID = UInt64

/// A client message as SPEC §2 defines it: a type and a JSON body.
public struct ClientRequest: Hashable, Sendable {
    public var type: String
    public var body: JSON

    public init(type: String, body: JSON = .null) {
        self.type = type
        self.body = body
    }
}

/// The answer to one client request.
public struct ClientResponse: Hashable, Sendable {
    /// Why a request failed, for drivers that map errors to status codes
    /// (HTTP 400 vs 503). The seed protocol only sees `ERROR` and the text.
    public enum Failure: Hashable, Sendable {
        /// The request itself was wrong; repeating it cannot help.
        case badRequest
        /// The cluster could not serve it now (quorum not reached, not a
        /// member, overloaded); it may succeed later.
        case unavailable
    }

    public var type: String
    public var body: JSON
    public var failure: Failure?

    public init(type: String, body: JSON, failure: Failure? = nil) {
        self.type = type
        self.body = body
        self.failure = failure
    }

    public static func error(_ text: String, _ failure: Failure = .badRequest) -> ClientResponse {
        ClientResponse(type: "ERROR", body: .string(text), failure: failure)
    }
}

/// Everything that can happen to a node. The current time comes with it.
public enum Event: Sendable, Hashable {
    /// The node process starts (also after a crash): restores timers.
    case start
    case client(RequestID, ClientRequest)
    case peer(from: Address, PeerMessage)
    case timer(NodeTimer)
}

/// Everything a node asks its driver to do.
public enum Effect: Sendable, Hashable {
    case send(to: Address, PeerMessage)
    case reply(RequestID, ClientResponse)
    /// Arms the timer; arming a timer that is pending re-arms it.
    case setTimer(NodeTimer, after: Double)
    case cancelTimer(NodeTimer)
}
