import KvorumBinaryProtocol
import NIOCore
import NIOPosix
import NIOSSL

/// A client of one node's binary protocol (docs/binary-protocol.md) over
/// one long-lived connection, on SwiftNIO.
///
/// Requests may be sent from many tasks at once: each gets its own request
/// id, they go out pipelined on the one connection, and each call returns
/// when the answer with its id arrives (answers come in any order). Every
/// request waits at most `timeout` seconds. With a CA in the credentials
/// the connection is TLS, and a token is sent in an `auth` frame first.
public final class KvorumBinaryClient: Sendable {
    /// Why a binary request did not get the answer it asked for.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        /// The node answered with an error frame.
        case server(ErrorCode, String)
        /// No answer: not connected, closed, timed out, or not the protocol.
        case connection(String)

        public var description: String {
            switch self {
            case .server(let code, let message): "\(message) (\(code))"
            case .connection(let message): message
            }
        }
    }

    /// A read: the context covering every version, and the live values
    /// (none: the key is absent).
    public struct Read: Equatable, Sendable {
        public var context: String
        public var values: [StoredValue]
        public var tombstones: Int
        public var siblings: Int
    }

    /// A write: the new version's metadata and the key's sibling count.
    public struct Written: Equatable, Sendable {
        public var metadata: String
        public var siblings: Int
    }

    private let channel: Channel
    private let pending: Pending
    private let timeout: Double

    private init(channel: Channel, pending: Pending, timeout: Double) {
        self.channel = channel
        self.pending = pending
        self.timeout = timeout
    }

    deinit { channel.close(promise: nil) }

    /// Connects to `host:port`; with a CA (or `tls`) the connection is TLS
    /// and the node's certificate is verified for `host`; with a token the
    /// connection authenticates with it before returning.
    public static func connect(
        host: String, port: Int, credentials: ClientCredentials = ClientCredentials(), tls: Bool = false,
        timeout: Double = 5
    ) async throws(Failure) -> KvorumBinaryClient {
        var context: NIOSSLContext?
        if tls || credentials.caFile != nil || credentials.certificateFile != nil {
            do {
                context = try credentials.tlsContext()
            } catch {
                throw .connection(error.message)
            }
        }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let pending = Pending()
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.nanoseconds(Int64(timeout * 1e9)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [context] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: context, serverHostname: host.isIPAddress ? nil : host))
                    }
                    try channel.pipeline.syncOperations.addHandler(AnswerHandler(pending: pending))
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            throw .connection("cannot connect to \(host):\(port): \(error)")
        }
        let client = KvorumBinaryClient(channel: channel, pending: pending, timeout: timeout)
        if let token = credentials.token, !token.isEmpty {
            let answer = try await client.send(.auth(token: token))
            guard case .authenticated = answer else { throw failure(answer) }
        }
        return client
    }

    /// Sends one request and returns its answer, an error frame included.
    public func send(_ request: Request) async throws(Failure) -> Response {
        let loop = channel.eventLoop
        let answer = loop.makePromise(of: Response.self)
        let limit = TimeAmount.nanoseconds(Int64(timeout * 1e9))
        loop.execute { [channel, pending] in
            guard let id = pending.add(answer) else {
                return answer.fail(Failure.connection(pending.closedReason ?? "the connection is closed"))
            }
            let deadline = loop.scheduleTask(in: limit) {
                pending.remove(id)?.fail(Failure.connection("no answer within \(limit.nanoseconds / 1_000_000) ms"))
            }
            answer.futureResult.whenComplete { _ in deadline.cancel() }
            channel.writeAndFlush(channel.allocator.buffer(bytes: request.frame(id: id).bytes), promise: nil)
        }
        do {
            return try await answer.futureResult.get()
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .connection("\(error)")
        }
    }

    /// A quorum read of `key`.
    public func get(_ key: String, r: Int = 2) async throws(Failure) -> Read {
        let response = try await send(.get(key: key, r: UInt8(clamping: r)))
        guard case .values(let context, let tombstones, let siblings, let values) = response else {
            throw Self.failure(response)
        }
        return Read(context: context, values: values, tombstones: Int(tombstones), siblings: Int(siblings))
    }

    /// Writes `value` with the context of an earlier read (none: a blind write).
    public func put(
        _ key: String, value: [UInt8], w: Int = 2, context: String? = nil, contentType: String? = nil
    ) async throws(Failure) -> Written {
        try Self.written(
            await send(
                .put(
                    key: key, value: value, w: UInt8(clamping: w), context: context ?? "",
                    contentType: contentType ?? "")))
    }

    /// Deletes what `context` covers (none: what a read sees first).
    public func delete(_ key: String, w: Int = 2, context: String? = nil) async throws(Failure) -> Written {
        try Self.written(await send(.delete(key: key, w: UInt8(clamping: w), context: context ?? "")))
    }

    /// Closes the connection; requests still waiting fail.
    public func close() async {
        try? await channel.close()
    }

    private static func written(_ response: Response) throws(Failure) -> Written {
        guard case .written(let metadata, let siblings) = response else { throw failure(response) }
        return Written(metadata: metadata, siblings: Int(siblings))
    }

    private static func failure(_ response: Response) -> Failure {
        if case .error(let code, let message) = response { return .server(code, message) }
        return .connection("unexpected answer \(response.opcode)")
    }
}

/// The requests of a connection waiting for their answers, by request id.
/// Lives on the connection's event loop: every access is made from it.
private final class Pending: @unchecked Sendable {
    private var waiting: [UInt32: EventLoopPromise<Response>] = [:]
    private var nextID: UInt32 = 1
    /// Why the connection ended, once it has.
    private(set) var closedReason: String?

    /// Registers an answer to wait for; nil once the connection has closed.
    func add(_ answer: EventLoopPromise<Response>) -> UInt32? {
        guard closedReason == nil else { return nil }
        let id = nextID
        nextID = nextID &+ 1
        if nextID == 0 { nextID = 1 }
        waiting[id] = answer
        return id
    }

    func remove(_ id: UInt32) -> EventLoopPromise<Response>? { waiting.removeValue(forKey: id) }

    /// Fails every waiting request.
    func close(_ reason: String) {
        if closedReason == nil { closedReason = reason }
        let failed = waiting.values
        waiting = [:]
        for answer in failed { answer.fail(KvorumBinaryClient.Failure.connection(reason)) }
    }
}

/// Cuts answers out of the connection's bytes and completes the request
/// each names. An answer with request id 0 is the node's word about the
/// connection itself (e.g. a frame over its limit) before it closes.
private final class AnswerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let pending: Pending
    private var splitter = FrameSplitter(maxLength: Int(UInt32.max))
    private var connectionError: String?

    init(pending: Pending) { self.pending = pending }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        splitter.append(unwrapInboundIn(data).readableBytesView)
        do {
            while let frame = try splitter.next() {
                let response = try Response(frame)
                if frame.id == 0, case .error(let code, let message) = response {
                    connectionError = "\(message) (\(code))"
                } else {
                    pending.remove(frame.id)?.succeed(response)
                }
            }
        } catch {
            pending.close("the node sent bytes that are not an answer: \(error)")
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending.close(
            connectionError.map { "the node closed the connection: \($0)" } ?? "the node closed the connection")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        pending.close("\(error)")
        context.close(promise: nil)
    }
}
