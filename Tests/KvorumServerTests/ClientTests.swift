import Foundation
import Testing

@testable import KvorumClient

/// The HTTP client and the local-cluster record, without a server: how
/// requests are built, how answers are read, how the CLI finds its node.
struct ClientTests {
    static let base = URL(string: "http://127.0.0.1:8701")!

    // MARK: Requests

    /// Every byte outside the unreserved set is percent-encoded, so a key
    /// stays one path segment whatever it holds.
    @Test(arguments: [
        ("cart-1", "cart-1"),
        ("AZaz09-._~", "AZaz09-._~"),
        ("a b", "a%20b"),
        ("a/b", "a%2Fb"),
        ("../etc", "..%2Fetc"),
        ("q?r=2#frag", "q%3Fr%3D2%23frag"),
        ("100%", "100%25"),
        ("a+b&c", "a%2Bb%26c"),
        ("ключ", "%D0%BA%D0%BB%D1%8E%D1%87"),
        ("🍞", "%F0%9F%8D%9E"),
        ("tab\tnl\n", "tab%09nl%0A"),
    ])
    func pathEncoding(key: String, encoded: String) {
        #expect(Endpoint.encodePathSegment(key) == encoded)
        #expect(
            Endpoint.get(key: key, r: nil).url(baseURL: Self.base).absoluteString
                == "http://127.0.0.1:8701/kv/\(encoded)")
        // The encoded form decodes back to the key, as the server will.
        #expect(encoded.removingPercentEncoding == key)
    }

    /// Each endpoint has the documented method, path and query; a base URL's
    /// trailing slash or path prefix is kept right.
    @Test func endpointsMatchTheAPI() {
        let cases: [(Endpoint, String, String)] = [
            (.get(key: "k", r: 2), "GET", "http://127.0.0.1:8701/kv/k?r=2"),
            (.put(key: "k", value: "v", w: 3, context: "node1.1:1|"), "PUT", "http://127.0.0.1:8701/kv/k?w=3"),
            (.put(key: "k", value: "v", w: nil, context: nil), "PUT", "http://127.0.0.1:8701/kv/k"),
            (.lookup(key: "a/b"), "GET", "http://127.0.0.1:8701/lookup/a%2Fb"),
            (.members, "GET", "http://127.0.0.1:8701/members"),
            (.join(address: "127.0.0.1:7701"), "POST", "http://127.0.0.1:8701/join"),
            (.leave, "POST", "http://127.0.0.1:8701/leave"),
            (.remove(name: "node3"), "POST", "http://127.0.0.1:8701/remove"),
            (.stats, "GET", "http://127.0.0.1:8701/stats"),
            (.health, "GET", "http://127.0.0.1:8701/health"),
            (.localCopy(key: "a/b"), "GET", "http://127.0.0.1:8701/admin/local/a%2Fb"),
            (.getRaw(key: "k", r: 1), "GET", "http://127.0.0.1:8701/kv/k?r=1"),
            (
                .putBytes(key: "k", bytes: [0xFF], contentType: nil, w: 2, context: nil), "PUT",
                "http://127.0.0.1:8701/kv/k?w=2"
            ),
            (.delete(key: "k", w: 2, context: "AW5v"), "DELETE", "http://127.0.0.1:8701/kv/k?w=2"),
            (.delete(key: "k", w: nil, context: nil), "DELETE", "http://127.0.0.1:8701/kv/k"),
            (.keys(prefix: nil, after: nil, limit: nil), "GET", "http://127.0.0.1:8701/kv"),
            (
                .keys(prefix: "a/b c", after: "\u{E9}", limit: 5), "GET",
                "http://127.0.0.1:8701/kv?prefix=a%2Fb%20c&after=%C3%A9&limit=5"
            ),
        ]
        for (endpoint, method, url) in cases {
            #expect(endpoint.request(baseURL: Self.base).method == method)
            #expect(endpoint.url(baseURL: Self.base).absoluteString == url)
            #expect(endpoint.request(baseURL: Self.base).target == String(url.dropFirst("http://127.0.0.1:8701".count)))
        }
        #expect(Endpoint.members.request(baseURL: URL(string: "http://h:1/kvorum/")!).target == "/kvorum/members")
        #expect(
            Endpoint.members.url(baseURL: URL(string: "http://h:1/")!).absoluteString == "http://h:1/members")
        #expect(
            Endpoint.members.url(baseURL: URL(string: "http://h:1/kvorum/")!).absoluteString
                == "http://h:1/kvorum/members")
    }

    /// A PUT sends the value as the body and the context in the header; a
    /// context that cannot be a header value goes in the query; an empty
    /// context is no context.
    @Test func putCarriesValueAndContext() {
        let request = Endpoint.put(key: "k", value: "milk,eggs", w: 2, context: "AW5vZGUy").request(baseURL: Self.base)
        #expect(request.body == Array("milk,eggs".utf8))
        #expect(request.header("X-Kvorum-Context") == "AW5vZGUy")
        #expect(request.target == "/kv/k?w=2")

        let odd = Endpoint.put(key: "k", value: "v", w: nil, context: "nödé.1:1|").request(baseURL: Self.base)
        #expect(odd.header("X-Kvorum-Context") == nil)
        #expect(odd.target == "/kv/k?context=n%C3%B6d%C3%A9.1%3A1%7C")

        let empty = Endpoint.put(key: "k", value: "v", w: nil, context: "").request(baseURL: Self.base)
        #expect(empty.header("X-Kvorum-Context") == nil)
        #expect(empty.target == "/kv/k")
    }

    /// Bytes go as they are with their content type (none when nil); a
    /// DELETE carries its context like a PUT; only the raw read leaves out
    /// `Accept: application/json`.
    @Test func binaryPutDeleteAndRawRead() {
        let bytes: [UInt8] = [0, 0xFF, 0x80]
        let typed = Endpoint.putBytes(key: "k", bytes: bytes, contentType: "image/png", w: nil, context: "AW5v")
            .request(baseURL: Self.base)
        #expect(typed.body == bytes && typed.header("Content-Type") == "image/png")
        #expect(typed.header("X-Kvorum-Context") == "AW5v")
        let untyped = Endpoint.putBytes(key: "k", bytes: bytes, contentType: nil, w: nil, context: nil)
            .request(baseURL: Self.base)
        #expect(untyped.header("Content-Type") == nil)
        #expect(
            Endpoint.delete(key: "k", w: 2, context: "AW5v").request(baseURL: Self.base).header("X-Kvorum-Context")
                == "AW5v")
        #expect(Endpoint.get(key: "k", r: nil).request(baseURL: Self.base).header("Accept") == "application/json")
        #expect(Endpoint.getRaw(key: "k", r: nil).request(baseURL: Self.base).header("Accept") == "*/*")
    }

    /// A 300 answer reads as its multipart parts; a 200 as one value; the
    /// JSON form's base64 gives the exact bytes of a value that is not text.
    @Test func rawAndBinaryReads() throws {
        let body =
            "--b\r\nContent-Type: text/plain\r\nX-Kvorum-Metadata: m1\r\n\r\none\r\n--b\r\n"
            + "Content-Type: x/y\r\nX-Kvorum-Metadata: m2\r\n\r\n\r\n--x\r\n--b--\r\n"
        let several = try RawRead(
            HTTPResponse(
                status: 300, body: Data(body.utf8),
                headers: [
                    "content-type": "multipart/mixed; boundary=b", "x-kvorum-context": "c", "x-kvorum-siblings": "3",
                    "x-kvorum-tombstones": "1",
                ]))
        #expect(several.siblings.map(\.bytes) == [Array("one".utf8), Array("\r\n--x".utf8)])
        #expect(several.siblings.map(\.contentType) == ["text/plain", "x/y"])
        #expect(several.siblings.map(\.metadata) == ["m1", "m2"])
        #expect(several.context == "c" && several.tombstones == 1 && several.versions == 3)
        let one = try RawRead(HTTPResponse(status: 200, body: Data([0xFF]), headers: ["content-type": "a/b"]))
        #expect(one.siblings == [RawRead.Sibling(bytes: [0xFF], contentType: "a/b", metadata: nil)])
        #expect(MultipartParser.parts(of: Array("junk".utf8), contentType: "multipart/mixed; boundary=b") == nil)

        let json = try ReadResult(
            Self.response(
                200,
                #"{"base64":["/w==","aGk="],"context":"c","contentTypes":["x/y",null],"metadata":["m1","m2"],"tombstones":2,"values":[null,"hi"]}"#
            ))
        #expect(json.bytes == [[0xFF], Array("hi".utf8)] && json.contentTypes == ["x/y", nil])
        #expect(json.values == ["\u{FFFD}", "hi"] && json.tombstones == 2)
    }

    /// JOIN sends `{"address": …}`.
    @Test func joinBody() throws {
        let request = Endpoint.join(address: "127.0.0.1:7701").request(baseURL: Self.base)
        let body = try JSONDecoder().decode([String: String].self, from: Data(request.body))
        #expect(body == ["address": "127.0.0.1:7701"])
    }

    /// REMOVE sends `{"name": …}`.
    @Test func removeBody() throws {
        let request = Endpoint.remove(name: "node3").request(baseURL: Self.base)
        let body = try JSONDecoder().decode([String: String].self, from: Data(request.body))
        #expect(body == ["name": "node3"])
    }

    // MARK: Answers

    static func response(_ status: Int, _ body: String) -> HTTPResponse {
        HTTPResponse(status: status, body: Data(body.utf8))
    }

    /// A 200 read has the siblings, their metadata and the context.
    @Test func readFound() throws {
        let result = try ReadResult(
            Self.response(
                200,
                #"{"context":"a.1:1,b.1:1","key":"cart","metadata":["a.1:1|","b.1:1|"],"values":["milk","eggs"]}"#))
        #expect(
            result
                == ReadResult(
                    values: ["milk", "eggs"], metadata: ["a.1:1|", "b.1:1|"], context: "a.1:1,b.1:1", found: true))
    }

    /// A 404 with the read body is an absent key, not an error.
    @Test func readNotFound() throws {
        let result = try ReadResult(
            Self.response(404, #"{"context":"","key":"k","metadata":[],"values":[]}"#))
        #expect(result == ReadResult(values: [], metadata: [], context: "", found: false))
    }

    /// Error statuses carry the server's `error` text; a body that is not
    /// the API's error shape is quoted; an empty one gives the reason phrase.
    @Test func errors() {
        #expect(
            throws: KvorumClientError(status: 503, message: "quorum not reached: 1 of 2 replicas answered")
        ) {
            try ReadResult(Self.response(503, #"{"error":"quorum not reached: 1 of 2 replicas answered"}"#))
        }
        #expect(throws: KvorumClientError(status: 404, message: "no such path")) {
            try ReadResult(Self.response(404, #"{"error":"no such path"}"#))
        }
        #expect(KvorumClientError(Self.response(502, "Bad gateway\n")).message == "Bad gateway")
        #expect(KvorumClientError(Self.response(500, "")).message.isEmpty == false)
        #expect(
            KvorumClientError(status: 400, message: "bad quorum").description == "bad quorum (HTTP 400)")
    }

    /// A 200 whose body is not what the endpoint returns is an error that
    /// quotes the body.
    @Test func unexpectedBody() {
        #expect {
            try ReadResult(Self.response(200, "<html>"))
        } throws: { error in
            (error as? KvorumClientError)?.message.contains("<html>") == true
        }
    }

    /// The documented stats fields are typed; every field is kept.
    @Test func stats() throws {
        let body = #"""
            {"address":"127.0.0.1:7701","hintsPending":2,"members":["node1","node2"],"name":"node1",
             "pendingOperations":0,"records":12,"ring":{"partitions":4096,"replicas":3},
             "suspectedPeers":["node3"],"uptime":1.5}
            """#
        let stats = try Self.response(200, body).decode(Stats.self)
        #expect(stats.name == "node1")
        #expect(stats.address == "127.0.0.1:7701")
        #expect(stats.records == 12)
        #expect(stats.hintsPending == 2)
        #expect(stats.suspectedPeers == ["node3"])
        #expect(stats.pendingOperations == 0)
        #expect(stats.fields["uptime"] == .double(1.5))
        #expect(stats.fields["members"]?.description == "node1, node2")
        #expect(stats.fields["ring"]?.description == "partitions=4096 replicas=3")
        #expect(JSONValue.array([]).description == "(none)")
        #expect(
            JSONValue.object(["name": .string("node2"), "address": .string("127.0.0.1:7702")]).description
                == "node2 (127.0.0.1:7702)")
    }

    /// A node that is not there is an error without a status that names
    /// its URL.
    @Test func unreachableNode() async throws {
        let port = try #require(LoopbackPorts.allocate(1).first)
        let url = URL(string: "http://127.0.0.1:\(port)")!
        await #expect {
            try await KvorumClient(baseURL: url, timeout: 2).members()
        } throws: { error in
            guard let error = error as? KvorumClientError else { return false }
            return error.isUnreachable && error.message.contains(url.absoluteString)
                && error.message.contains("refused")
        }
    }

    /// A node that accepts the connection but never answers makes the client
    /// give up on its own timeout (the error names the 0.3 s), not hang: a
    /// hang runs into the time limit. No wall-clock bound is asserted: the
    /// answer resumes on the shared task pool, which the suite's CPU-bound
    /// simulator tests may keep busy for a minute on two cores.
    @Test(.timeLimit(.minutes(3))) func silentNode() async throws {
        let listener = try #require(LoopbackPorts.openListener(port: 0, reuseAddress: false))
        defer { close(listener.descriptor) }
        let client = KvorumClient(baseURL: URL(string: "http://127.0.0.1:\(listener.port)")!, timeout: 0.3)
        await #expect {
            try await client.health()
        } throws: { error in
            (error as? KvorumClientError).map { $0.isUnreachable && $0.message.hasSuffix("no answer within 0.3 s") }
                ?? false
        }
    }

    // MARK: The local cluster record

    /// Runs `body` with a fresh directory, removed afterwards.
    static func inScratchDirectory(_ body: (URL) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kvorum-client-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(directory)
    }

    static let record = ClusterFile(
        nodes: [
            .init(name: "node1", peer: "127.0.0.1:7701", http: "http://127.0.0.1:8801", dataDir: "/d/node1", pid: 11),
            .init(name: "node2", peer: "127.0.0.1:7702", http: "http://127.0.0.1:8802", dataDir: "/d/node2", pid: 12),
        ], supervisor: 10)

    /// cluster.json reads back as written, with the documented field names.
    @Test func clusterFileRoundTrip() throws {
        try Self.inScratchDirectory { directory in
            #expect(try ClusterFile.read(from: directory) == nil)
            try Self.record.write(to: directory)
            #expect(try ClusterFile.read(from: directory) == Self.record)
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: ClusterFile.location(in: directory)))
            let nodes = try #require((json as? [String: Any])?["nodes"] as? [[String: Any]])
            #expect(Set(nodes[0].keys) == ["name", "peer", "http", "dataDir", "pid"])
            #expect(Self.record.nodes[1].peerPort == 7702)
            #expect(Self.record.nodes[1].httpPort == 8802)
        }
    }

    /// The CLI's default node: the first node of ./kvorum-data/cluster.json,
    /// else http://127.0.0.1:8701 — also when the record is damaged.
    @Test func defaultNode() throws {
        try Self.inScratchDirectory { directory in
            #expect(ClusterFile.defaultNodeURL(workingDirectory: directory) == ClusterFile.fallbackNodeURL)
            let data = directory.appendingPathComponent(ClusterFile.defaultDirectory)
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            try Self.record.write(to: data)
            #expect(
                ClusterFile.defaultNodeURL(workingDirectory: directory) == URL(string: "http://127.0.0.1:8801")!)
            try Data("{\"nodes\":".utf8).write(to: ClusterFile.location(in: data))
            #expect(ClusterFile.defaultNodeURL(workingDirectory: directory) == ClusterFile.fallbackNodeURL)
        }
    }

    /// A secure cluster's record: https URLs, the CA and the admin token's
    /// file. The CLI's default node comes with that CA and the token read
    /// from the file; a plain record brings no credentials.
    @Test func secureClusterRecord() throws {
        try Self.inScratchDirectory { directory in
            let data = directory.appendingPathComponent(ClusterFile.defaultDirectory)
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            let tokenFile = data.appendingPathComponent("admin.token")
            try Data("kvt_secret\n".utf8).write(to: tokenFile)
            let record = ClusterFile(
                nodes: [
                    .init(
                        name: "node1", peer: "127.0.0.1:7701", http: "https://127.0.0.1:8801", dataDir: "/d/node1",
                        pid: 11)
                ], supervisor: 10, security: .init(caFile: "/d/certs/ca.crt", tokenFile: tokenFile.path))
            try record.write(to: data)
            #expect(try ClusterFile.read(from: data) == record)
            let chosen = ClusterFile.defaultNode(workingDirectory: directory)
            #expect(chosen.url == URL(string: "https://127.0.0.1:8801")!)
            #expect(chosen.credentials == ClientCredentials(caFile: "/d/certs/ca.crt", token: "kvt_secret"))
            try Self.record.write(to: data)
            #expect(ClusterFile.defaultNode(workingDirectory: directory).credentials == ClientCredentials())
        }
    }

    /// Allocated ports are distinct, outside the excluded set and free; a
    /// port with a listener is not free.
    @Test func freePorts() throws {
        let first = try LoopbackPorts.allocate(3)
        let more = try LoopbackPorts.allocate(5, excluding: Set(first))
        #expect(Set(first + more).count == 8)
        #expect(first.allSatisfy(LoopbackPorts.isFree))
        #expect(!LoopbackPorts.isFree(0))
        #expect(!LoopbackPorts.isFree(70_000))
        let listener = try #require(LoopbackPorts.openListener(port: 0, reuseAddress: false))
        defer { close(listener.descriptor) }
        #expect(!LoopbackPorts.isFree(listener.port))
    }
}
