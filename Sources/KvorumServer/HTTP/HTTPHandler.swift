import KvorumCore
import KvorumRouting
import NIOCore
import NIOHTTP1
import NIOSSL

/// One HTTP connection behind NIO's request decoder: collects each request,
/// routes it, and writes its answer as bytes (`HTTPAnswer.encode`).
///
/// Requests a client pipelines (sends without waiting, RFC 9112 §9.3) are
/// served one at a time and answered in request order: once a request has
/// arrived in full, what comes behind it waits here until its answer is
/// written, and the connection is not read meanwhile, so a connection has
/// at most one request in service and cannot flood the node. This is what
/// NIO's `HTTPServerPipelineHandler` did; doing it here saves the answer
/// its way through that handler, the header validator and the response
/// encoder (docs/limits.md).
///
/// A body longer than the node's `maxValueBytes` is never buffered past
/// the limit. One whose `Content-Length` announces it is answered `413` at
/// once (a client waiting on `Expect: 100-continue` need not send it); one
/// that passes the limit while it arrives (chunked) is answered when it
/// ends. Either way the rest is read and dropped, so the connection stays
/// usable for the next request; a request that asked to close is closed
/// only once its body has ended, so the client reads the answer instead of
/// a reset.
///
/// It tells the connection's guard when a request head is taken up and
/// when its answer is written, and answers the decoder's errors: `431` for
/// a head over `--max-header-bytes` (the decoder's limits are set to it),
/// `400` for anything else malformed, after the answers before them.
///
/// It lives on its connection's event loop; its state is read or changed
/// in place, each access ending before any call that could come back here
/// (`drain` takes a part out before serving it), so it skips the runtime's
/// exclusivity check (`@exclusivity(unchecked)`).
final class HTTPHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What arrived behind a request whose answer is awaited.
    private enum Waiting {
        case part(HTTPServerRequestPart)
        case malformed(HTTPParserError)
    }

    private let node: ServerNode
    private let connection: HTTPConnectionGuard
    private let maxHeaderBytes: Int
    @exclusivity(unchecked) private var context: ChannelHandlerContext?

    @exclusivity(unchecked) private var waiting = CircularBuffer<Waiting>()
    /// A request has arrived in full and its answer is not yet written.
    @exclusivity(unchecked) private var awaitingAnswer = false
    /// `drain` is running (an answer written inside it must not start another).
    @exclusivity(unchecked) private var draining = false
    /// The channel asked to read while an answer was awaited.
    @exclusivity(unchecked) private var readPending = false
    /// The connection closes after the answer being written: nothing more is served.
    @exclusivity(unchecked) private var closing = false

    @exclusivity(unchecked) private var head: HTTPRequestHead?
    @exclusivity(unchecked) private var body: ByteBuffer?
    @exclusivity(unchecked) private var bodyTooLarge = false
    /// Whether to close once the current body ends: an early 413 to a
    /// request that asked to close.
    @exclusivity(unchecked) private var closeWhenBodyEnds = false
    /// The common name of the client's verified certificate, looked up in
    /// the pipeline once per connection (the handshake ends before the
    /// first request's bytes are decrypted).
    @exclusivity(unchecked) private var certificateName: String??

    init(node: ServerNode, connection: HTTPConnectionGuard, maxHeaderBytes: Int) {
        self.node = node
        self.connection = connection
        self.maxHeaderBytes = maxHeaderBytes
    }

    private var limit: Int { node.configuration.maxValueBytes }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelInactive(context: ChannelHandlerContext) {
        waiting.removeAll()
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard !closing else { return }
        if mustWait {
            waiting.append(.part(part))
        } else {
            serve(part, context: context)
        }
    }

    /// Whether what arrives now must wait its turn: a request is being
    /// answered, or others wait before it.
    private var mustWait: Bool { awaitingAnswer || draining || !waiting.isEmpty }

    func read(context: ChannelHandlerContext) {
        if awaitingAnswer { readPending = true } else { context.read() }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parserError = error as? HTTPParserError else { return context.close(promise: nil) }
        if mustWait {
            waiting.append(.malformed(parserError))
        } else {
            refuse(parserError)
        }
    }

    /// Serves what waited, in order, until an answer is awaited again; then
    /// reads on if the channel asked to.
    private func drain() {
        guard !draining, let context else { return }
        draining = true
        while !awaitingAnswer, !closing, let next = waiting.popFirst() {
            switch next {
            case .part(let part): serve(part, context: context)
            case .malformed(let error): refuse(error)
            }
        }
        draining = false
        if !awaitingAnswer, readPending {
            readPending = false
            context.read()
        }
    }

    private func serve(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let requestHead):
            connection.headReceived()
            head = requestHead
            body = nil
            let announced = requestHead.headers.first(name: "Content-Length").flatMap { Int($0) } ?? 0
            bodyTooLarge = announced > limit
            closeWhenBodyEnds = bodyTooLarge && !requestHead.isKeepAlive
            if bodyTooLarge {
                head = nil
                refuseTooLarge(keepAlive: true, method: requestHead.method)
            }
        case .body(var chunk):
            if bodyTooLarge { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > limit {
                bodyTooLarge = true
                body = nil
            } else if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
        case .end:
            if closeWhenBodyEnds { context.close(promise: nil) }
            guard let requestHead = head else { return }
            head = nil
            awaitingAnswer = true
            let keepAlive = requestHead.isKeepAlive
            let method = requestHead.method
            if bodyTooLarge { return refuseTooLarge(keepAlive: keepAlive, method: method) }
            let routing = RequestRouter.route(method: method.rawValue, target: requestHead.uri)
            let limits = RequestLimits(limits: node.configuration.limits, inFlight: node.operationsInFlight)
            if let refusal = limits.refusal(target: requestHead.uri, routing: routing) {
                return write(refusal, keepAlive: keepAlive, method: method)
            }
            // Answers come on the loop: at once for bad requests, at the end
            // of the node's turn for everything it handles.
            let bodyBytes = body.map { Array($0.readableBytesView) } ?? []
            body = nil
            let router = Router(node: node)
            router.route(requestHead, routing, body: bodyBytes, certificateName: clientName(context)) { answer in
                self.write(answer, keepAlive: keepAlive, method: method)
            }
        }
    }

    private func clientName(_ context: ChannelHandlerContext) -> String? {
        guard node.configuration.httpTLS != nil else { return nil }
        if let certificateName { return certificateName }
        let name = (try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self))
            .flatMap { HTTPTLS.clientName($0) }
        certificateName = .some(name)
        return name
    }

    private func refuseTooLarge(keepAlive: Bool, method: HTTPMethod) {
        let message = "the request body is larger than this node's limit of \(limit) bytes (--max-value-bytes)"
        write(.error(.payloadTooLarge, message), keepAlive: keepAlive, method: method)
    }

    /// The decoder's error, answered and closed by the guard.
    private func refuse(_ error: HTTPParserError) {
        closing = true
        waiting.removeAll()
        if error == .headerOverflow {
            LimitMetrics.shared.refused(.headerTooLarge)
            connection.refuse(
                .requestHeaderFieldsTooLarge,
                "the request head is larger than this node's limit of \(maxHeaderBytes) bytes (--max-header-bytes)")
        } else {
            connection.refuse(.badRequest, "malformed HTTP request: \(error)")
        }
    }

    /// Writes an answer; then serves what waited behind its request, or
    /// closes the connection if the request asked to.
    private func write(_ answer: HTTPAnswer, keepAlive: Bool, method: HTTPMethod) {
        guard let context, !closing else { return }
        var buffer = context.channel.allocator.buffer(capacity: answer.body.count + 256)
        answer.encode(into: &buffer, keepAlive: keepAlive, withBody: method != .HEAD)
        // The guard learns that the answer is written before the next
        // request is taken up, or it would take the connection for idle
        // while that request is served (and close it after --idle-timeout).
        connection.answerWritten()
        awaitingAnswer = false
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            drain()
        } else {
            closing = true
            waiting.removeAll()
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// The decoder's limits for heads of at most `maxHeaderBytes`: the
    /// request line and every header count towards it.
    static func decoderLimits(maxHeaderBytes: Int) -> NIOHTTPDecoderLimitConfiguration {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = maxHeaderBytes
        limits.maxHeaderListSize = maxHeaderBytes
        return limits
    }
}

extension HTTPAnswer {
    /// Writes the answer as HTTP/1.1: the status line, `Content-Type`,
    /// `Content-Length`, its other headers, `Connection: close` unless the
    /// connection stays open, and the body (not for a `HEAD` request, whose
    /// answer says only how long the body would be).
    ///
    /// Every header must be valid to send (a token name, RFC 9110 §5.1; a
    /// value without control characters but tab, §5.5), as NIO's response
    /// header validator required: some values come from clients (a stored
    /// value's content type). An answer with one that is not is replaced
    /// by a `500` that says which, instead of reaching the client as
    /// something else.
    func encode(into buffer: inout ByteBuffer, keepAlive: Bool, withBody: Bool) {
        guard Self.isValidFieldValue(contentType), headers.allSatisfy({ Self.isValidField(name: $0.0, value: $0.1) })
        else {
            let invalid = ([("Content-Type", contentType)] + headers).first {
                !Self.isValidField(name: $0.0, value: $0.1)
            }
            let message =
                "this answer's header \(invalid?.0 ?? "") holds bytes HTTP does not allow there (a control character)"
            return HTTPAnswer.error(.internalServerError, message).encode(
                into: &buffer, keepAlive: keepAlive, withBody: withBody)
        }
        // The head is written into room reserved in the buffer at once:
        // each write to a `ByteBuffer` pays for a uniqueness and an
        // exclusivity check, and a head has some twenty parts.
        let reason = status.reasonPhrase
        let room =
            HeadWriter.fixedRoom + reason.utf8.count + contentType.utf8.count
            + headers.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 4 }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { memory in
            var head = HeadWriter(memory)
            head.write("HTTP/1.1 ")
            head.write(decimal: Int(status.code))
            head.write(" ")
            head.write(reason)
            head.write("\r\nContent-Type: ")
            head.write(contentType)
            head.write("\r\nContent-Length: ")
            head.write(decimal: body.count)
            head.write("\r\n")
            for (name, value) in headers {
                head.write(name)
                head.write(": ")
                head.write(value)
                head.write("\r\n")
            }
            if !keepAlive { head.write("Connection: close\r\n") }
            head.write("\r\n")
            return head.count
        }
        if withBody { buffer.writeBytes(body) }
    }

    static func isValidField(name: String, value: String) -> Bool {
        var name = name
        return !name.isEmpty && name.withUTF8 { $0.allSatisfy(isTokenByte) } && isValidFieldValue(value)
    }

    /// Whether `value` may be sent as a header's value: what a content
    /// type given over the binary protocol must be, as HTTP reads serve it.
    static func isValidFieldValue(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { $0.allSatisfy(isValueByte) }
    }

    /// `tchar` (RFC 9110 §5.6.2).
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"),
            UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"),
            UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    /// A byte of `field-value` (RFC 9110 §5.5): anything but a control character, tab allowed.
    private static func isValueByte(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\t") || (byte >= 0x20 && byte != 0x7F)
    }
}

/// Writes an answer's head into memory reserved for it, which must have
/// room for everything written (checked).
private struct HeadWriter {
    /// Room for the head's fixed text and its two numbers; the caller adds
    /// the lengths of the reason phrase, the content type and the headers
    /// (each with 4 bytes for `: ` and the line end).
    static let fixedRoom = 128

    private let memory: UnsafeMutableRawBufferPointer
    /// Bytes written so far.
    private(set) var count = 0

    init(_ memory: UnsafeMutableRawBufferPointer) {
        self.memory = memory
    }

    mutating func write(_ text: StaticString) {
        write(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func write(_ text: String) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }

    /// A non-negative number's decimal digits.
    mutating func write(decimal number: Int) {
        precondition(number >= 0, "a status code or a length is never negative")
        var divisor = 1
        while divisor <= number / 10 { divisor *= 10 }
        var rest = number
        while divisor > 0 {
            write(byte: UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    private mutating func write(byte: UInt8) {
        precondition(count < memory.count, "an answer's head outgrew the room reserved for it")
        memory[count] = byte
        count += 1
    }

    private mutating func write(_ bytes: UnsafeRawBufferPointer) {
        precondition(count + bytes.count <= memory.count, "an answer's head outgrew the room reserved for it")
        UnsafeMutableRawBufferPointer(rebasing: memory[count..<count + bytes.count]).copyMemory(from: bytes)
        count += bytes.count
    }
}
