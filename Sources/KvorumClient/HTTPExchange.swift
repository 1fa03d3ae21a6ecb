import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTP/1.1 request over its own connection, with one deadline for
/// connecting, sending and receiving the whole answer.
///
/// The wait is on the socket: the connection lives on SwiftNIO's shared
/// event loop, which sleeps in epoll until bytes or the deadline arrive,
/// so a caller waiting for a slow node costs no CPU.
enum HTTPExchange {
    /// Why no HTTP answer came.
    enum Failure: Error, Equatable {
        case refused
        /// No connection within the timeout: nothing was sent.
        case connectTimedOut
        /// Connected and sent, but no whole answer within the timeout.
        case timedOut
        case unknownHost
        /// Connecting failed otherwise (e.g. no route to the host): nothing was sent.
        case connectFailed(String)
        case connectionLost
        case notHTTP
        /// The TLS handshake or session failed: the error as NIOSSL raised it.
        case tls(String)
        case other(String)

        /// Whether the request surely never reached the node: the
        /// connection was never made, or its TLS handshake failed (NIOSSL
        /// holds the request's bytes until the handshake completes). A
        /// timeout, a lost connection or a garbled answer after connecting
        /// may come after the node got the request.
        var isUndelivered: Bool {
            switch self {
            case .refused, .connectTimedOut, .unknownHost, .connectFailed, .tls: return true
            case .timedOut, .connectionLost, .notHTTP, .other: return false
            }
        }
    }

    /// Sends `request` to `host:port` and returns the whole answer, or
    /// fails once `timeout` seconds have passed without it. With `tls`, the
    /// connection is HTTPS: the node's certificate is verified for `host`.
    static func perform(
        _ request: PreparedRequest, host: String, port: Int, timeout: Double, tls: NIOSSLContext? = nil
    ) async throws(Failure) -> HTTPResponse {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let answer = loop.makePromise(of: HTTPResponse.self)
        // Capped at a year, so any finite timeout fits in nanoseconds.
        let limit = TimeAmount.nanoseconds(Int64((min(timeout, 31_536_000) * 1e9).rounded(.up)))
        // Set on the loop once connected: the deadline then means the
        // request went out and its answer did not come back.
        let isConnected = NIOLoopBoundBox.makeEmptyBox(valueType: Bool.self, eventLoop: loop)
        let deadline = loop.scheduleTask(in: limit) {
            answer.fail(isConnected.value == true ? Failure.timedOut : Failure.connectTimedOut)
        }
        answer.futureResult.whenComplete { _ in deadline.cancel() }
        ClientBootstrap(group: loop)
            .connectTimeout(limit)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        // An IP address is checked against the certificate's
                        // addresses; TLS carries only names as SNI.
                        let handler = try NIOSSLClientHandler(
                            context: tls, serverHostname: host.isIPAddress ? nil : host)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(answer: answer))
                }
            }
            .connect(host: host, port: port)
            .whenComplete { connected in
                switch connected {
                case .success(let channel):
                    isConnected.value = true
                    // Also closes a connection that came after the deadline.
                    answer.futureResult.whenComplete { _ in channel.close(promise: nil) }
                    write(request, host: host, port: port, on: channel)
                case .failure(let error):
                    answer.fail(Failure(connectError: error))
                }
            }
        do {
            return try await answer.futureResult.get()
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .other(String(describing: error))
        }
    }

    private static func write(_ request: PreparedRequest, host: String, port: Int, on channel: Channel) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: port == 80 ? host : "\(host):\(port)")
        for header in request.headers { headers.add(name: header.name, value: header.value) }
        headers.add(name: "Content-Length", value: String(request.body.count))
        headers.add(name: "Connection", value: "close")
        let head = HTTPRequestHead(
            version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: request.target, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if !request.body.isEmpty {
            channel.write(
                HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(bytes: request.body))), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }
}

extension HTTPExchange.Failure {
    /// The failure of a connection attempt.
    init(connectError error: any Error) {
        // A connection by name fails with every attempt's error (none when
        // the name did not resolve); a connection timeout fails alone.
        let attempts = (error as? NIOConnectionError).map { $0.connectionErrors.map(\.error) } ?? [error]
        if attempts.isEmpty {
            self = .unknownHost
        } else if attempts.contains(where: Self.isRefusal) {
            self = .refused
        } else if attempts.contains(where: Self.isConnectTimeout) {
            self = .connectTimedOut
        } else {
            self = .connectFailed(String(describing: attempts[0]))
        }
    }

    private static func isRefusal(_ error: any Error) -> Bool {
        (error as? IOError)?.errnoCode == ECONNREFUSED
    }

    private static func isConnectTimeout(_ error: any Error) -> Bool {
        if case .connectTimeout? = error as? ChannelError { return true }
        return false
    }
}

/// Collects one answer (status and body) and completes the promise with it;
/// a connection that ends first, or bytes that are not HTTP, fail it.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let answer: EventLoopPromise<HTTPResponse>
    private var status = 0
    private var headers: [String: String] = [:]
    private var body: [UInt8] = []

    init(answer: EventLoopPromise<HTTPResponse>) {
        self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            headers = [:]
            for (name, value) in head.headers {
                let name = name.lowercased()
                headers[name] = headers[name].map { $0 + ", " + value } ?? value
            }
            body = []
        case .body(let chunk):
            body.append(contentsOf: chunk.readableBytesView)
        case .end:
            answer.succeed(HTTPResponse(status: status, body: Data(body), headers: headers))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        answer.fail(HTTPExchange.Failure.connectionLost)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            answer.fail(HTTPExchange.Failure.notHTTP)
        } else if error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError {
            answer.fail(HTTPExchange.Failure.tls(String(describing: error)))
        } else {
            answer.fail(HTTPExchange.Failure.connectionLost)
        }
        context.close(promise: nil)
    }
}
