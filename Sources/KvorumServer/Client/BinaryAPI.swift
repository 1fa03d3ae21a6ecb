import KvorumBinaryProtocol
import KvorumContextToken
import KvorumCore
import KvorumRouting
import NIOCore
import NIOPosix
import NIOSSL

/// The binary client protocol (docs/binary-protocol.md) on its own port:
/// length-prefixed frames, requests pipelined and answered by request id,
/// as soon as each is done (not in request order).
///
/// It is the HTTP API's equal in everything but encoding: the same TLS
/// (HTTPS node, TLS port), the same credentials and roles (a connection
/// authenticates with an `auth` frame or its client certificate, and each
/// request is checked against its operation's role by `Authenticator`),
/// the same limits (`--max-connections`, `--idle-timeout`, key and value
/// sizes, `--max-pending-operations`) and the same `KeyCommands`.
enum BinaryAPI {
    /// Room in a frame for what travels with a value: key, context, content type.
    static let frameOverhead = 64 << 10

    static func bind(node: ServerNode, host: String, port: Int) -> EventLoopFuture<Channel> {
        let connections = BinaryConnections(limit: node.configuration.limits.maxConnections)
        return ServerBootstrap.listener(on: node.loop)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls = node.configuration.httpTLS {
                        try pipeline.addHandler(NIOSSLServerHandler(context: tls.context))
                    }
                    try pipeline.addHandler(BinaryConnection(node: node, connections: connections))
                }
            }
            .bind(host: host, port: port)
    }
}

/// The open binary connections of a node, held to `--max-connections`
/// (counted apart from the HTTP API's). Lives on the node's loop.
final class BinaryConnections: @unchecked Sendable {
    let limit: Int
    private(set) var open = 0

    init(limit: Int) { self.limit = limit }

    /// Whether one more connection may open; if so it is counted.
    func admit() -> Bool {
        guard open < limit else { return false }
        open += 1
        return true
    }

    func remove() { open -= 1 }
}

/// One binary connection: cuts frames, serves each request and writes its
/// answer when it is done.
///
/// At most `maxInFlight` requests of a connection are served at once; the
/// frames behind them wait, and the connection is not read from until there
/// is room again, so a client that pipelines without bound only fills its
/// own socket buffers. A frame whose length is out of bounds is answered
/// `frameTooLarge` (request id 0) and the connection closed; any other bad
/// frame is answered and the connection goes on.
final class BinaryConnection: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Requests of one connection served at once.
    static let maxInFlight = 128

    private let node: ServerNode
    private let connections: BinaryConnections
    private var splitter: FrameSplitter
    private var admitted = false
    private var closing = false
    private var channel: Channel?
    /// The token of the connection's accepted `auth` frame.
    private var token: String?
    /// The common name of the client certificate, read at the first frame.
    private var certificateName: String??
    private var inFlight = 0
    private var waiting: [Frame] = []
    /// Whether a read was held back for lack of room.
    private var readHeld = false
    /// Whether `resume` is serving waiting frames.
    private var resuming = false
    /// When the connection has idled `--idle-timeout`, moved by every byte
    /// and answer.
    private var idle = MovingDeadline()

    init(node: ServerNode, connections: BinaryConnections) {
        self.node = node
        self.connections = connections
        splitter = FrameSplitter(maxLength: node.configuration.maxValueBytes + BinaryAPI.frameOverhead)
    }

    private var limits: NodeLimits { node.configuration.limits }

    func channelActive(context: ChannelHandlerContext) {
        channel = context.channel
        admitted = connections.admit()
        if admitted {
            armIdleTimer()
        } else {
            LimitMetrics.shared.refused(.connections)
            closeAfter(
                .error(
                    .overloaded,
                    message:
                        "this node has \(limits.maxConnections) open binary connections, its limit (--max-connections): "
                        + "retry shortly"), id: 0)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if admitted { connections.remove() }
        admitted = false
        closing = true
        idle.stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let buffer = unwrapInboundIn(data)
        splitter.append(buffer.readableBytesView)
        if certificateName == nil {
            certificateName = .some(
                (try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self))
                    .flatMap { HTTPTLS.clientName($0) })
        }
        armIdleTimer()
        do {
            while let frame = try splitter.next() {
                if inFlight < Self.maxInFlight && waiting.isEmpty { serve(frame) } else { waiting.append(frame) }
            }
        } catch {
            let message: String
            switch error {
            case .tooShort(let length):
                message = "a frame's length is \(length), less than the 5 bytes of opcode and request id"
            case .tooLarge(let length, let limit):
                message =
                    "a frame of \(length) bytes is larger than this node's limit of \(limit) bytes "
                    + "(--max-value-bytes plus \(BinaryAPI.frameOverhead))"
            }
            closeAfter(.error(.frameTooLarge, message: message), id: 0)
        }
    }

    func read(context: ChannelHandlerContext) {
        if inFlight >= Self.maxInFlight || !waiting.isEmpty {
            readHeld = true
        } else {
            context.read()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    // MARK: - Serving

    private func serve(_ frame: Frame) {
        let request: Request
        do {
            request = try Request(frame)
        } catch {
            switch error {
            case .unknownOpcode(let opcode):
                answer(.error(.unknownOpcode, message: "opcode \(opcode) names no request"), id: frame.id)
            case .malformed(let opcode):
                answer(.error(.malformedFrame, message: "the body of a \(opcode) frame does not decode"), id: frame.id)
            }
            return
        }
        inFlight += 1
        let begin = NIODeadline.now()
        handle(request) { [self] response in
            if let operation = request.operation { node.noteRequest(operation, RequestOutcome(response), since: begin) }
            inFlight -= 1
            answer(response, id: frame.id)
            resume()
        }
    }

    /// Serves the frames that waited for room, then reads again. Not
    /// reentrant: an answer given at once, while it serves, only counts.
    private func resume() {
        guard !resuming else { return }
        resuming = true
        defer { resuming = false }
        while inFlight < Self.maxInFlight, !waiting.isEmpty, !closing {
            serve(waiting.removeFirst())
        }
        if readHeld, inFlight < Self.maxInFlight, waiting.isEmpty, let channel {
            readHeld = false
            channel.read()
        }
        armIdleTimer()
    }

    /// HTTP reads answer with a value's content type as a header, so it
    /// must be one (HTTP's own parser refuses such a header on a PUT).
    static let badContentType = "the content type must be a valid HTTP header value: no control characters but tab"

    private func handle(_ request: Request, done: @escaping (Response) -> Void) {
        switch request {
        case .ping: done(.pong)
        case .auth(let token): authenticate(token, done: done)
        case .get(let key, let r):
            if let refused = refusal(key: key, value: nil, role: .read, name: "get") { return done(refused) }
            get(key, r: Int(r), done: done)
        case .put(let key, let value, let w, let context, let contentType):
            if let refused = refusal(key: key, value: value, role: .write, name: "put") { return done(refused) }
            guard case .success(let context) = KeyCommands.context(token: context) else {
                return done(.error(.badRequest, message: ContextToken.damagedMessage))
            }
            guard HTTPAnswer.isValidFieldValue(contentType) else {
                return done(.error(.badRequest, message: Self.badContentType))
            }
            let stored = Value(bytes: value, contentType: contentType.isEmpty ? nil : contentType)
            KeyCommands(node: node).put(key, value: stored, w: Int(w), context: context) { result in
                done(self.written(key, result))
            }
        case .delete(let key, let w, let context):
            if let refused = refusal(key: key, value: nil, role: .write, name: "delete") { return done(refused) }
            guard case .success(let context) = KeyCommands.context(token: context) else {
                return done(.error(.badRequest, message: ContextToken.damagedMessage))
            }
            KeyCommands(node: node).delete(key, w: Int(w), context: context) { result in
                switch result {
                case .success(.written(let written)): done(self.written(key, .success(written)))
                case .success(.absent): done(.error(.notFound, message: "no live value of '\(key)'"))
                case .failure(let failure): done(Self.response(failure))
                }
            }
        }
    }

    private func get(_ key: String, r: Int, done: @escaping (Response) -> Void) {
        let commands = KeyCommands(node: node)
        commands.get(key, r: r) { result in
            switch result {
            case .success(let read):
                let siblings = commands.notice(key, siblings: read.siblings).count
                let values = zip(read.values, read.metadata).map { value, metadata in
                    StoredValue(
                        metadata: ContextToken.encode(metadata), contentType: value.contentType ?? "",
                        bytes: value.bytes)
                }
                done(
                    .values(
                        context: ContextToken.encode(Metadata.encode(read.context)),
                        tombstones: UInt32(read.tombstones), siblings: UInt32(siblings), values: values))
            case .failure(let failure): done(Self.response(failure))
            }
        }
    }

    private func written(_ key: String, _ result: Result<KeyCommands.Written, KeyCommands.Failure>) -> Response {
        switch result {
        case .success(let written):
            let siblings = KeyCommands(node: node).notice(key, siblings: written.siblings).count
            return .written(metadata: written.token, siblings: UInt32(siblings))
        case .failure(let failure): return Self.response(failure)
        }
    }

    /// An `auth` frame: the token is kept for the connection's requests if
    /// this node accepts it (any role), refused otherwise.
    private func authenticate(_ token: String, done: (Response) -> Void) {
        switch node.authenticator.decide(needed: .monitor, authorization: "Bearer \(token)", certificateName: nil) {
        case .allowed(let identity):
            self.token = token
            done(.authenticated(role: identity?.role.rawValue ?? ""))
        case .refused(let refusal):
            node.noteRefusal(refusal, route: "auth")
            done(Self.response(refusal))
        }
    }

    /// The answer refusing a key request for its credentials or the node's
    /// limits, or nil if it may be served.
    private func refusal(key: String, value: [UInt8]?, role: Role, name: String) -> Response? {
        let decision = node.authenticator.decide(
            needed: role, authorization: token.map { "Bearer \($0)" }, certificateName: certificateName ?? nil)
        if case .refused(let refusal) = decision {
            node.noteRefusal(refusal, route: name)
            return Self.response(refusal)
        }
        guard !key.isEmpty else { return .error(.badRequest, message: "the key must be non-empty UTF-8") }
        if key.utf8.count > limits.maxKeyBytes {
            LimitMetrics.shared.refused(.keyTooLarge)
            return .error(
                .keyTooLarge,
                message: "the key is \(key.utf8.count) bytes, longer than this node's limit of "
                    + "\(limits.maxKeyBytes) bytes (--max-key-bytes)")
        }
        if let value, value.count > node.configuration.maxValueBytes {
            return .error(
                .valueTooLarge,
                message: "the value is larger than this node's limit of \(node.configuration.maxValueBytes) bytes "
                    + "(--max-value-bytes)")
        }
        let inFlight = node.operationsInFlight
        if inFlight >= limits.maxPendingOperations {
            LimitMetrics.shared.refused(.pendingOperations)
            return .error(
                .overloaded,
                message: "this node has \(inFlight) operations in flight, its limit (--max-pending-operations): "
                    + "retry shortly")
        }
        return nil
    }

    /// The error answering a refusal, in the HTTP API's words.
    static func response(_ refusal: Authenticator.Refusal) -> Response {
        let message = Router.message(refusal)
        switch refusal {
        case .missing:
            return .error(
                .authenticationRequired,
                message: "this node requires credentials: an auth frame with a bearer token, or a client certificate")
        case .unknown: return .error(.invalidCredentials, message: message)
        case .forbidden: return .error(.forbidden, message: message)
        }
    }

    /// The error answering a failed key operation.
    static func response(_ failure: KeyCommands.Failure) -> Response {
        switch failure {
        case .badRequest(let message), .failed(let message, .badRequest): .error(.badRequest, message: message)
        case .failed(let message, .unavailable): .error(.unavailable, message: message)
        case .failed(let message, .conflict): .error(.conflict, message: message)
        case .unexpected(let message): .error(.internal, message: message)
        }
    }

    // MARK: - Writing and closing

    private func answer(_ response: Response, id: UInt32) {
        guard !closing, let channel else { return }
        channel.writeAndFlush(channel.allocator.buffer(bytes: response.frame(id: id).bytes), promise: nil)
    }

    /// Writes `response` and closes the connection; nothing more is read.
    private func closeAfter(_ response: Response, id: UInt32) {
        guard !closing, let channel else { return }
        closing = true
        waiting = []
        idle.stop()
        channel.writeAndFlush(channel.allocator.buffer(bytes: response.frame(id: id).bytes))
            .whenComplete { _ in channel.close(promise: nil) }
    }

    /// Closes the connection after `--idle-timeout` without a byte from the
    /// client while nothing is in flight.
    private func armIdleTimer() {
        guard !closing else { return }
        idle.arm(after: limits.idleTimeout, wake: wakeForIdle)
    }

    private func wakeForIdle(at moment: NIODeadline) -> Scheduled<Void>? {
        channel?.eventLoop.scheduleTask(deadline: moment) { [self] in
            guard !closing, idle.woke(wake: wakeForIdle) else { return }
            guard inFlight == 0, waiting.isEmpty else { return armIdleTimer() }
            LimitMetrics.shared.connectionsIdleClosed.increment()
            closing = true
            channel?.close(promise: nil)
        }
    }
}

extension Request {
    /// The operation label of the request metrics (none for `auth` and `ping`).
    fileprivate var operation: RequestOperation? {
        switch self {
        case .get: .get
        case .put: .put
        case .delete: .delete
        case .auth, .ping: nil
        }
    }
}

extension RequestOutcome {
    /// The outcome of a binary answer, as the HTTP status of the same
    /// failure would count it.
    fileprivate init(_ response: Response) {
        guard case .error(let code, _) = response else {
            self = .ok
            return
        }
        switch code {
        case .notFound: self = .notFound
        case .malformedFrame, .unknownOpcode, .badRequest, .keyTooLarge: self = .badRequest
        case .authenticationRequired, .invalidCredentials, .forbidden: self = .unauthorized
        case .conflict: self = .conflict
        case .valueTooLarge, .frameTooLarge: self = .tooLarge
        case .unavailable, .overloaded: self = .unavailable
        case .internal: self = .error
        }
    }
}
