import KvorumCore
import Testing

@testable import KvorumRouting

/// How the HTTP API reads request targets: every route and its method, the
/// 400/404/405 answers, path and query split, percent-decoding.
struct RequestRouterTests {
    private func route(_ method: String, _ target: String) -> Route? {
        try? RequestRouter.route(method: method, target: target).get().route
    }

    private func error(_ method: String, _ target: String) -> RoutingError? {
        guard case .failure(let error) = RequestRouter.route(method: method, target: target) else { return nil }
        return error
    }

    @Test func everyRoute() {
        #expect(route("GET", "/kv/a") == .getKey("a"))
        #expect(route("PUT", "/kv/a") == .putKey("a"))
        #expect(route("DELETE", "/kv/a") == .deleteKey("a"))
        #expect(route("GET", "/kv") == .listKeys)
        #expect(route("GET", "/kv?prefix=p&limit=3") == .listKeys)
        #expect(route("GET", "/lookup/a") == .lookup("a"))
        #expect(route("GET", "/admin/local/a") == .localCopy("a"))
        #expect(route("GET", "/members") == .members)
        #expect(route("POST", "/join") == .join)
        #expect(route("POST", "/leave") == .leave)
        #expect(route("POST", "/remove") == .remove)
        #expect(route("GET", "/stats") == .stats)
        #expect(route("GET", "/metrics") == .metrics)
        #expect(route("GET", "/health") == .health)
        #expect(route("GET", "/ready") == .ready)
        #expect(route("GET", "/status") == .status)
        #expect(route("GET", "/ui") == .console)
        #expect(route("GET", "/ui?tab=ring") == .console)
    }

    /// A key is everything after the endpoint's prefix, decoded: encoded
    /// and bare slashes, UTF-8, spaces.
    @Test func keysAreDecoded() {
        #expect(route("GET", "/kv/a%2Fb") == .getKey("a/b"))
        #expect(route("GET", "/kv/a/b") == .getKey("a/b"))
        #expect(route("PUT", "/kv/caf%C3%A9?w=3") == .putKey("caf\u{E9}"))
        #expect(route("GET", "/lookup/x%20y") == .lookup("x y"))
        #expect(route("GET", "/admin/local/a%2F/b") == .localCopy("a//b"))
        // `+` is a space only in the query.
        #expect(route("GET", "/kv/a+b") == .getKey("a+b"))
    }

    /// An empty key or one that does not decode is a 400, checked before
    /// the method.
    @Test func badKeysAre400() {
        for target in ["/kv/", "/kv/%FF", "/kv/%", "/kv/a%2", "/kv/%zz", "/lookup/", "/lookup/%C3", "/admin/local/"] {
            #expect(error("GET", target) == .badRequest(message: "the key must be non-empty, percent-encoded UTF-8"))
        }
        #expect(error("POST", "/kv/%FF")?.status == 400)
    }

    @Test func unknownPathsAre404() {
        for target in [
            "/", "", "/nope", "/kvx/a", "/health/", "/members/x", "/stats/", "/lookup", "/admin", "/ui/", "/ui/x",
            "/favicon.ico",
        ] {
            #expect(error("GET", target)?.status == 404, "\(target)")
        }
        #expect(error("GET", "/nope?x=1") == .notFound(message: "no such endpoint: /nope"))
        #expect(
            error("GET", "/admin/other/a")
                == .notFound(message: "no such endpoint: /admin/other/a (the admin endpoint is /admin/local/{key})"))
    }

    /// A known path with the wrong method: 405 with the methods it takes.
    @Test func wrongMethodsAre405WithAllow() {
        let onKey = error("POST", "/kv/a")
        #expect(onKey?.status == 405)
        #expect(onKey?.allow == "GET, PUT, DELETE")
        #expect(onKey?.message == "use GET, PUT or DELETE on /kv/{key}")
        let cases: [(String, String, String)] = [
            ("PUT", "/kv", "GET"), ("DELETE", "/lookup/a", "GET"), ("PUT", "/admin/local/a", "GET"),
            ("POST", "/members", "GET"), ("GET", "/join", "POST"), ("GET", "/leave", "POST"),
            ("PUT", "/remove", "POST"), ("POST", "/stats", "GET"), ("DELETE", "/metrics", "GET"),
            ("HEAD", "/health", "GET"), ("POST", "/ui", "GET"),
        ]
        for (method, target, allowed) in cases {
            let refused = error(method, target)
            #expect(refused?.status == 405, "\(method) \(target)")
            #expect(refused?.allow == allowed, "\(method) \(target)")
        }
        #expect(error("GET", "/leave?x=1")?.message == "GET is not allowed on /leave")
        #expect(error("GET", "/health")?.allow == nil)
    }

    @Test func splitsPathAndQuery() {
        #expect(RequestRouter.splitTarget("/kv/a").path == "/kv/a")
        #expect(RequestRouter.splitTarget("/kv/a").query.isEmpty)
        let (path, query) = RequestRouter.splitTarget("/kv/a%2Fb?w=2&context=n1.1%3A3&flag&note=two+words%21")
        #expect(path == "/kv/a%2Fb")
        #expect(query == ["w": "2", "context": "n1.1:3", "flag": "", "note": "two words!"])
        #expect(RequestRouter.splitTarget("/kv/x?a+b=c+d%2Be").query == ["a b": "c d+e"])
        // The last of a repeated name counts; a name that does not decode is dropped.
        #expect(RequestRouter.splitTarget("/kv?w=1&w=3&%FF=x&&").query == ["w": "3"])
        let routed = try? RequestRouter.route(method: "GET", target: "/kv/k?r=3").get()
        #expect(routed == RoutedRequest(route: .getKey("k"), path: "/kv/k", query: ["r": "3"]))
    }

    @Test func decodesComponents() {
        #expect(PercentDecoding.decode("plain") == "plain")
        #expect(PercentDecoding.decode("caf%C3%A9") == "caf\u{E9}")
        #expect(PercentDecoding.decode("%2f%2F") == "//")
        #expect(PercentDecoding.decode("%00") == "\u{0}")
        #expect(PercentDecoding.decode("%FF") == nil)
        #expect(PercentDecoding.decode("%") == nil)
        #expect(PercentDecoding.decode("%4") == nil)
        #expect(PercentDecoding.decode("%g0") == nil)
        // Bytes already in the text pass through, even non-ASCII ones.
        #expect(PercentDecoding.decode("\u{E9}%20") == "\u{E9} ")
        // A query value that does not decode is kept as sent.
        #expect(RequestRouter.splitTarget("/kv/x?v=%FF").query == ["v": "%FF"])
    }

    /// Each route's role: probes and the console's page (it holds no data)
    /// need none, the node's state `monitor`, keys
    /// `read`, writes `write`, membership and local copies `admin`.
    @Test func roleTable() {
        let table: [(Route, Role?)] = [
            (.health, nil), (.ready, nil), (.console, nil), (.status, .monitor), (.stats, .monitor),
            (.metrics, .monitor), (.members, .monitor),
            (.getKey("k"), .read), (.listKeys, .read), (.lookup("k"), .read),
            (.putKey("k"), .write), (.deleteKey("k"), .write),
            (.join, .admin), (.leave, .admin), (.remove, .admin), (.localCopy("k"), .admin),
        ]
        for (route, role) in table { #expect(route.requiredRole == role, "\(route)") }
    }

    /// Roles are ordered; each includes those below it and none above.
    @Test func rolesIncludeThoseBelow() {
        #expect(Role.allCases == [.monitor, .read, .write, .admin])
        for held in Role.allCases {
            for needed in Role.allCases {
                let expected = Role.allCases.firstIndex(of: needed)! <= Role.allCases.firstIndex(of: held)!
                #expect(held.includes(needed) == expected, "\(held) \(needed)")
            }
        }
        #expect(Role(rawValue: "write") == .write)
        #expect(Role(rawValue: "root") == nil)
    }

    /// The bytewise split of a path into its endpoint and the rest agrees
    /// with the earlier one on `Character`s, kept here as the definition,
    /// on random paths (without a combining mark after a slash, where a
    /// `Character` would swallow the slash).
    @Test func endpointAgreesWithTheCharacterDefinition() {
        func reference(_ path: String) -> (String, String, Bool) {
            let segments = path.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let first = segments.count > 1 ? String(segments[1].prefix { $0 != "/" }) : ""
            let rest = segments.count > 1 ? String(segments[1].dropFirst(first.count + 1)) : ""
            return (first, rest, segments.count > 1 && segments[1].count > first.count)
        }
        let pieces = ["/", "/", "kv", "admin", "local", "a", "é", "ключ", "🙂", "%2F", "e\u{301}", ""]
        var random = SplitMix64(seed: 3986)
        for _ in 0..<20_000 {
            let path = (0..<Int.random(in: 0...6, using: &random)).map { _ in pieces.randomElement(using: &random)! }
                .joined()
            let (first, rest) = RequestRouter.endpoint(path)
            let expected = reference(path)
            #expect(first == expected.0 && String(rest ?? "") == expected.1 && (rest != nil) == expected.2, "\(path)")
        }
    }

    /// The query is read on the target's bytes into a list: it agrees with
    /// the definition it replaced, which split the text and filled a table,
    /// on random targets (repeated names, empty pairs, `+`, escapes good and bad).
    @Test func splitTargetAgreesWithTheTableDefinition() {
        func reference(_ target: String) -> (String, [String: String]) {
            let bytes = target.utf8
            guard let mark = bytes.firstIndex(of: UInt8(ascii: "?")) else { return (target, [:]) }
            func plusAsSpace(_ part: Substring.UTF8View) -> String {
                String(decoding: part.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
            }
            var query: [String: String] = [:]
            for pair in bytes[bytes.index(after: mark)...].split(separator: UInt8(ascii: "&")) {
                let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = PercentDecoding.decode(plusAsSpace(parts[0])) else { continue }
                let value = parts.count > 1 ? plusAsSpace(parts[1]) : ""
                query[name] = PercentDecoding.decode(value) ?? value
            }
            return (String(target[..<mark]), query)
        }
        let pieces = ["/kv/a", "?", "&", "&", "=", "=", "w", "r", "2", "+", "%2B", "%FF", "%", "é", "ключ", "x"]
        var random = SplitMix64(seed: 3987)
        for _ in 0..<20_000 {
            let target = (0..<Int.random(in: 0...10, using: &random)).map { _ in pieces.randomElement(using: &random)! }
                .joined()
            let (path, query) = RequestRouter.splitTarget(target)
            let (expectedPath, expectedTable) = reference(target)
            #expect(path == expectedPath, "\(target)")
            for name in Set(expectedTable.keys).union(["w", "r", "x", "w+", "w r"]) {
                #expect(query[name] == expectedTable[name], "\(target) \(name)")
            }
            #expect(query.isEmpty == expectedTable.isEmpty, "\(target)")
        }
    }

    /// The key a route names, which the request limits check.
    @Test func routeKeys() {
        #expect(route("GET", "/kv/a%2Fb")?.key == "a/b")
        #expect(route("PUT", "/kv/k")?.key == "k" && route("DELETE", "/kv/k")?.key == "k")
        #expect(route("GET", "/lookup/l")?.key == "l" && route("GET", "/admin/local/m")?.key == "m")
        for target in ["/kv", "/members", "/stats", "/metrics", "/health", "/ready", "/status", "/ui"] {
            #expect(route("GET", target).map { $0.key == nil } == true, "\(target)")
        }
    }
}
