import Foundation
import KvorumContextToken
import KvorumCore
import KvorumRouting
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The client API over HTTP/1.1 (docs/http-api.md), on NIOHTTP1: keep-alive,
/// bounded request bodies, JSON answers with meaningful status codes. With
/// the node's TLS material it is HTTPS, and every request's credentials
/// are checked against its route's role (`Authenticator`, docs/security.md).
///
/// Every causal context the API hands out (a read's `context` and each
/// sibling's `metadata`, a write's `metadata`) is a `ContextToken`, and a
/// write's context must be one: the node decodes it to the seed protocol's
/// metadata text before the core sees it, and refuses a damaged one.
enum HTTPAPI {
    /// Every connection first passes the node's connection, idle and
    /// header limits (docs/limits.md): `HTTPConnectionGuard` on its bytes;
    /// then NIO's request decoder, and `HTTPHandler`, which answers its
    /// errors and every request, in order.
    static func bind(node: ServerNode) -> EventLoopFuture<Channel> {
        let limits = node.configuration.limits
        let connections = HTTPConnections(limits: limits)
        return ServerBootstrap.listener(on: node.loop)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    // TLS first: the guard's own answers (503, 408, 431) go
                    // out through it, and it counts decrypted bytes.
                    if let tls = node.configuration.httpTLS {
                        try pipeline.addHandler(NIOSSLServerHandler(context: tls.context))
                    }
                    let connection = HTTPConnectionGuard(connections: connections)
                    try pipeline.addHandler(connection)
                    guard connection.isAdmitted else { return }
                    let decoder = HTTPRequestDecoder(
                        leftOverBytesStrategy: .dropBytes,
                        limitConfiguration: HTTPHandler.decoderLimits(maxHeaderBytes: limits.maxHeaderBytes))
                    try pipeline.addHandler(ByteToMessageHandler(decoder))
                    try pipeline.addHandler(
                        HTTPHandler(node: node, connection: connection, maxHeaderBytes: limits.maxHeaderBytes))
                }
            }
            .bind(host: node.configuration.httpHost, port: node.configuration.httpPort)
    }
}

/// An HTTP answer before it is written.
struct HTTPAnswer {
    var status: HTTPResponseStatus
    var body: [UInt8]
    var contentType = "application/json"
    var headers: [(String, String)] = []

    static func json(_ status: HTTPResponseStatus, _ value: JSON, headers: [(String, String)] = []) -> HTTPAnswer {
        var body = value.renderedBytes
        body.append(UInt8(ascii: "\n"))
        return HTTPAnswer(status: status, body: body, headers: headers)
    }

    /// The answer with `more` headers added.
    func adding(_ more: [(String, String)]) -> HTTPAnswer {
        var answer = self
        answer.headers += more
        return answer
    }

    static func error(_ status: HTTPResponseStatus, _ message: String) -> HTTPAnswer {
        json(status, ["error": .string(message)])
    }
}

/// Maps requests to node operations and node answers to HTTP answers.
struct Router {
    let node: ServerNode

    /// Answers a request as `routing` (its target, routed) says: checks
    /// its credentials against the route's role (`certificateName`: the
    /// common name of its verified client certificate, if any) and serves it.
    func route(
        _ head: HTTPRequestHead, _ routing: Result<RoutedRequest, RoutingError>, body: [UInt8],
        certificateName: String?, respond: @escaping (HTTPAnswer) -> Void
    ) {
        switch routing {
        case .failure(let error):
            let answer = Self.answer(error)
            node.logger.debug(
                "refused request",
                metadata: [
                    "method": "\(head.method.rawValue)", "status": "\(answer.status.code)", "error": "\(error.message)",
                ])
            respond(answer)
        case .success(let request):
            let respondMeasured = measured(request.route, respond: respond)
            let decision = node.authenticator.decide(
                needed: request.route.requiredRole, authorization: head.headers.first(name: "Authorization"),
                certificateName: certificateName)
            switch decision {
            case .allowed(let identity):
                if let identity, request.route.requiredRole == .admin {
                    node.logger.info(
                        "admin request",
                        metadata: [
                            "route": "\(request.route.name)", "identity": "\(identity.kind.rawValue):\(identity.name)",
                        ])
                }
                serve(request, head: head, body: body, respond: respondMeasured)
            case .refused(let refusal):
                node.noteRefusal(refusal, route: request.route.name)
                respondMeasured(Self.answer(refusal))
            }
        }
    }

    /// `respond`, counting and timing the answer by operation and outcome
    /// (`RequestMetrics`) and logging a bad request at debug level (the
    /// outcome counts it; a client's mistakes do not fill the log).
    private func measured(_ route: Route, respond: @escaping (HTTPAnswer) -> Void) -> (HTTPAnswer) -> Void {
        guard let op = RequestOperation(route) else { return respond }
        let begin = NIODeadline.now()
        return { [node] answer in
            let outcome = RequestOutcome(status: answer.status)
            node.noteRequest(op, outcome, since: begin)
            if outcome == .badRequest {
                node.logger.debug(
                    "bad request",
                    metadata: [
                        "op": "\(op.rawValue)", "status": "\(answer.status.code)",
                        "error": "\(String(decoding: answer.body, as: UTF8.self).trimmingCharacters(in: .newlines))",
                    ])
            }
            respond(answer)
        }
    }

    /// The answer to a request refused for its credentials. Missing and
    /// unknown credentials get the same 401 whatever was wrong with them.
    static func answer(_ refusal: Authenticator.Refusal) -> HTTPAnswer {
        let answer = HTTPAnswer.error(refusal.isForbidden ? .forbidden : .unauthorized, message(refusal))
        switch refusal {
        case .missing: return answer.adding([("WWW-Authenticate", "Bearer realm=\"kvorum\"")])
        case .unknown:
            return answer.adding([("WWW-Authenticate", "Bearer realm=\"kvorum\", error=\"invalid_token\"")])
        case .forbidden: return answer
        }
    }

    /// What a refusal for credentials says, in every client API.
    static func message(_ refusal: Authenticator.Refusal) -> String {
        switch refusal {
        case .missing:
            "this node requires credentials: a bearer token (Authorization: Bearer …) or a client certificate"
        case .unknown: "the token or client certificate is not accepted by this node"
        case .forbidden(let identity, let needed):
            "this request needs the role '\(needed.rawValue)'; \(identity.kind.rawValue) '\(identity.name)' "
                + "has the role '\(identity.role.rawValue)'"
        }
    }

    /// Serves a routed request.
    func serve(
        _ request: RoutedRequest, head: HTTPRequestHead, body: [UInt8], respond: @escaping (HTTPAnswer) -> Void
    ) {
        let query = request.query
        switch request.route {
        case .getKey(let key):
            get(key, query: query, format: ReadFormat(accept: head.headers.first(name: "Accept")), respond: respond)
        case .putKey(let key): put(key, value: body, query: query, headers: head.headers, respond: respond)
        case .deleteKey(let key): delete(key, query: query, headers: head.headers, respond: respond)
        case .listKeys: listKeys(query: query, respond: respond)
        case .lookup(let key): lookup(key, respond: respond)
        case .localCopy(let key): respond(.json(.ok, localCopy(key)))
        case .members: members(respond: respond)
        case .join: join(body, respond: respond)
        case .leave: leave(respond: respond)
        case .remove: remove(body, respond: respond)
        case .stats: respond(.json(.ok, statsJSON()))
        case .metrics: respond(metrics())
        case .health: respond(.json(.ok, ["status": "ok", "name": .string(node.configuration.node.name)]))
        case .ready:
            let readiness = node.readiness()
            respond(.json(readiness == .ready ? .ok : .serviceUnavailable, readiness.json))
        case .status: respond(.json(.ok, node.clusterStatus().json))
        case .console: respond(ConsolePage.answer)
        }
    }

    /// The answer to a request target that names no route.
    static func answer(_ error: RoutingError) -> HTTPAnswer {
        let answer = HTTPAnswer.error(HTTPResponseStatus(statusCode: error.status), error.message)
        return error.allow.map { answer.adding([("Allow", $0)]) } ?? answer
    }

    // MARK: - Endpoints

    private var commands: KeyCommands { KeyCommands(node: node) }

    private func get(
        _ key: String, query: QueryParameters, format: ReadFormat, respond: @escaping (HTTPAnswer) -> Void
    ) {
        guard let quorum = quorum(query["r"], name: "r", respond: respond) else { return }
        let commands = self.commands
        commands.get(key, r: quorum) { result in
            switch result {
            case .success(let read):
                let answer = ReadRendering(key: key, read: read).answer(format)
                respond(answer.adding(commands.notice(key, siblings: read.siblings).headers))
            case .failure(let failure): respond(Self.answer(failure))
            }
        }
    }

    /// PUT: any bytes, stored with the request's `Content-Type` (none: nil,
    /// served as `application/octet-stream`).
    private func put(
        _ key: String, value: [UInt8], query: QueryParameters, headers: HTTPHeaders,
        respond: @escaping (HTTPAnswer) -> Void
    ) {
        guard let quorum = quorum(query["w"], name: "w", respond: respond) else { return }
        guard let context = writeContext(query: query, headers: headers, respond: respond) else { return }
        let contentType = headers.first(name: "Content-Type").flatMap { $0.isEmpty ? nil : $0 }
        commands.put(key, value: Value(bytes: value, contentType: contentType), w: quorum, context: context) {
            respond(written(key, $0))
        }
    }

    /// DELETE: writes a tombstone that supersedes what the context covers
    /// (without one, what a read sees: `KeyCommands.delete`); a key without
    /// a live value is answered 404 as a read would be.
    private func delete(
        _ key: String, query: QueryParameters, headers: HTTPHeaders, respond: @escaping (HTTPAnswer) -> Void
    ) {
        guard let quorum = quorum(query["w"], name: "w", respond: respond) else { return }
        guard let context = writeContext(query: query, headers: headers, respond: respond) else { return }
        let commands = self.commands
        commands.delete(key, w: quorum, context: context) { result in
            switch result {
            case .success(.written(let written)): respond(self.written(key, .success(written)))
            case .success(.absent(let read)):
                let answer = ReadRendering(key: key, read: read).answer(.json)
                respond(answer.adding(commands.notice(key, siblings: read.siblings).headers))
            case .failure(let failure): respond(Self.answer(failure))
            }
        }
    }

    /// The answer to a PUT or DELETE: `{"key", "metadata"}` with the
    /// sibling count, or the failure.
    private func written(_ key: String, _ result: Result<KeyCommands.Written, KeyCommands.Failure>) -> HTTPAnswer {
        switch result {
        case .success(let written):
            var object = JSONObjectWriter()
            object.field("key", .string(key))
            object.field("metadata", .string(written.token))
            let notice = commands.notice(key, siblings: written.siblings)
            return HTTPAnswer(status: .ok, body: object.finished(suffix: "\n"), headers: notice.headers)
        case .failure(let failure): return Self.answer(failure)
        }
    }

    /// A write's context: the `X-Kvorum-Context` header, else the `context`
    /// query parameter. `.some(nil)` when none is given (a blind write);
    /// nil after answering 400 for a damaged token.
    private func writeContext(
        query: QueryParameters, headers: HTTPHeaders, respond: (HTTPAnswer) -> Void
    ) -> VersionVector?? {
        switch KeyCommands.context(token: headers.first(name: "X-Kvorum-Context") ?? query["context"]) {
        case .success(let context): return .some(context)
        case .failure(let failure):
            respond(Self.answer(failure))
            return nil
        }
    }

    /// One page of the cluster's keys (`GET /kv?prefix=P&after=K&limit=N`):
    /// a coverage query, see docs/http-api.md. The node checks the limit's range.
    private func listKeys(query: QueryParameters, respond: @escaping (HTTPAnswer) -> Void) {
        var limit = KeyQuery.defaultLimit
        if let text = query["limit"] {
            guard let value = Int(text) else {
                respond(.error(.badRequest, "query parameter 'limit' must be an integer, got '\(text)'"))
                return
            }
            limit = value
        }
        let keyQuery = KeyQuery(
            prefix: Key(query["prefix"] ?? ""), after: query["after"].map { Key($0) }, limit: limit)
        node.submit(.listKeys(keyQuery)) { reply in
            guard case .keyPage(let page) = reply else { return respond(Self.failure(reply)) }
            respond(.json(.ok, Self.pageJSON(page)))
        }
    }

    /// A page of keys as `GET /kv` answers it.
    static func pageJSON(_ page: KeyPage) -> JSON {
        ["keys": .array(page.keys.map { .string($0.text) }), "next": page.next.map { .string($0.text) } ?? .null]
    }

    private func lookup(_ key: String, respond: @escaping (HTTPAnswer) -> Void) {
        node.submit(.lookup(key: Key(key))) { reply in
            guard case .replicas(let replicas) = reply else { return respond(Self.failure(reply)) }
            let list: [JSON] = replicas.map { ["name": .string($0.name), "address": .string($0.address)] }
            respond(.json(.ok, ["key": .string(key), "replicas": .array(list)]))
        }
    }

    /// The node's own copy of `key`, read from its store alone: no quorum,
    /// no replica asked, no read repair. For checkers that compare replicas.
    private func localCopy(_ key: String) -> JSON {
        let siblings = node.localCopy(of: key)
        return [
            "key": .string(key), "node": .string(node.configuration.node.name),
            "values": .array(siblings.values.map { .string($0) }),
            "metadata": Self.tokens(siblings.metadata),
        ]
    }

    private func members(respond: (HTTPAnswer) -> Void) {
        let members: [JSON] = node.memberEntries.map { ["name": .string($0.name), "address": .string($0.address)] }
        respond(.json(.ok, ["members": .array(members)]))
    }

    private func join(_ body: [UInt8], respond: @escaping (HTTPAnswer) -> Void) {
        let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        var address = text
        if text.hasPrefix("{") {
            guard let parsed = try? JSONDecoder().decode(JSON.self, from: Data(text.utf8)),
                let value = parsed["address"]?.stringValue
            else {
                respond(.error(.badRequest, "join body must be {\"address\":\"host:port\"} or a bare host:port"))
                return
            }
            address = value
        }
        guard HostPort.parse(address) != nil else {
            respond(.error(.badRequest, "'\(address)' is not a peer address host:port"))
            return
        }
        node.submit(.join(contact: address)) { reply in
            guard reply == .accepted else { return respond(Self.failure(reply)) }
            respond(.json(.accepted, ["joining": .string(address)]))
        }
    }

    private func leave(respond: @escaping (HTTPAnswer) -> Void) {
        node.submit(.leave) { reply in
            guard reply == .accepted else { return respond(Self.failure(reply)) }
            respond(.json(.accepted, ["leaving": .string(node.configuration.node.name)]))
        }
    }

    /// Admin: takes another member, one that cannot leave by itself (its
    /// host is dead), out of the ring; the core refuses this node itself,
    /// unknown names and members already gone.
    private func remove(_ body: [UInt8], respond: @escaping (HTTPAnswer) -> Void) {
        guard let parsed = try? JSONDecoder().decode(JSON.self, from: Data(body)),
            let member = parsed["name"]?.stringValue
        else {
            respond(.error(.badRequest, "remove body must be {\"name\":\"NAME\"}, the name of the member to remove"))
            return
        }
        node.submit(.remove(member: member)) { reply in
            guard case .removed(let removed) = reply else { return respond(Self.failure(reply)) }
            respond(.json(.accepted, ["removing": .string(removed)]))
        }
    }

    private func statsJSON() -> JSON {
        let stats = node.stats()
        return [
            "name": .string(stats.name), "address": .string(stats.address), "records": .int(Int64(stats.records)),
            "hintsPending": .int(Int64(stats.hintsPending)),
            "suspectedPeers": .array(stats.suspectedPeers.map { .string($0) }),
            "pendingOperations": .int(Int64(stats.pendingOperations)),
            "members": .array(stats.members.map { .string($0) }),
            "ring": ["partitions": .int(Int64(stats.partitions)), "replicas": .int(Int64(stats.replicas))],
        ]
    }

    private func metrics() -> HTTPAnswer {
        HTTPAnswer(status: .ok, body: Array(node.metricsText().utf8), contentType: "text/plain; version=0.0.4")
    }

    // MARK: - Helpers

    /// A quorum parameter: absent means 2 (a majority of 3). Only its form
    /// is checked here; the node checks its range.
    private func quorum(_ text: String?, name: String, respond: (HTTPAnswer) -> Void) -> Int? {
        guard let text else { return 2 }
        guard let value = Int(text) else {
            respond(.error(.badRequest, "query parameter '\(name)' must be an integer, got '\(text)'"))
            return nil
        }
        return value
    }

    /// The answer to a reply other than the one the endpoint expects: a
    /// failure as 400 or 503 with its text.
    static func failure(_ reply: ClientReply) -> HTTPAnswer { answer(KeyCommands.Failure(reply)) }

    /// The answer to a failed key operation: 400, 409 or 503 with its text,
    /// 500 for a reply the node never expects.
    static func answer(_ failure: KeyCommands.Failure) -> HTTPAnswer {
        switch failure {
        case .badRequest(let message), .failed(let message, .badRequest): .error(.badRequest, message)
        case .failed(let message, .unavailable): .error(.serviceUnavailable, message)
        case .failed(let message, .conflict): .error(.conflict, message)
        case .unexpected(let message): .error(.internalServerError, message)
        }
    }

    /// Versions' metadata as the API hands it out: one token each.
    static func tokens(_ metadata: [String]) -> JSON {
        .array(metadata.map { .string(ContextToken.encode($0)) })
    }
}
