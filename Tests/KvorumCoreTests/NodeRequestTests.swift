import Testing

@testable import KvorumCore

/// Request validation and the one-reply rule, checked on a single node
/// driven directly (no network): SPEC §2 "bad input gets an ERROR answer; the
/// node keeps running and loses nothing".
@Suite("Client requests")
struct NodeRequestTests {
    /// A node that started a cluster of one and holds one record.
    private func singleNode() -> (KvorumNode, MemoryStorage) {
        let storage = MemoryStorage()
        let node = KvorumNode(config: NodeConfig(name: "solo", address: "127.0.0.1:9701"), storage: storage)
        _ = node.handle(.start, now: 0)
        _ = node.handle(.client(1, ClientRequest(type: "JOIN", body: "127.0.0.1:9701")), now: 0)
        let put = node.handle(
            .client(2, ClientRequest(type: "PUT", body: ["key": "k", "value": "v", "quorum": 1])), now: 0)
        #expect(replies(put).map(\.type) == ["PUT_RESP"])
        return (node, storage)
    }

    private func replies(_ effects: [Effect]) -> [ClientResponse] {
        effects.compactMap {
            if case .reply(_, let reply) = $0 { return ClientResponse(reply) }
            return nil
        }
    }

    static let badRequests: [(String, JSON)] = [
        ("GET", ["quorum": 1]),
        ("GET", ["key": 5, "quorum": 1]),
        ("GET", ["key": "k", "quorum": 0]),
        ("GET", ["key": "k", "quorum": 4]),
        ("GET", ["key": "k", "quorum": "2"]),
        ("GET", ["key": "k", "quorum": .double(1.5)]),
        ("GET", ["key": "k"]),
        ("GET", "k"),
        ("GET", .null),
        ("PUT", ["key": "k", "quorum": 1]),
        ("PUT", ["key": "k", "value": 3, "quorum": 1]),
        ("PUT", ["key": "k", "value": "x", "quorum": -1]),
        ("PUT", ["key": "k", "value": "x", "quorum": true]),
        ("PUT", ["key": "k", "value": "x", "quorum": 1, "metadata": 7]),
        ("PUT", ["key": "k", "value": "x", "quorum": 1, "metadata": "garbage"]),
        ("PUT", ["key": "k", "value": "x", "quorum": 1, "metadata": "a:0"]),
        ("PUT", .array(["k", "x"])),
        ("LOOKUP", ["key": "k"]),
        ("LOOKUP", .null),
        ("JOIN", .int(9701)),
        ("JOIN", .null),
        ("REMOVE", .null),
        ("REMOVE", ["name": "solo"]),
        ("DELETE", ["key": "k"]),
        ("LIST_KEYS", .null),
        ("LIST_KEYS", ["limit": 0]),
        ("LIST_KEYS", ["limit": 10_001]),
        ("LIST_KEYS", ["limit": "5"]),
        ("LIST_KEYS", ["prefix": 3]),
        ("LIST_KEYS", ["after": true]),
        ("", .null),
    ]

    /// Every malformed request gets exactly one ERROR reply with a reason, and
    /// the stored record, the membership and the hints are untouched.
    @Test(arguments: badRequests.indices)
    func badInputGetsOneErrorAndChangesNothing(index: Int) {
        let (type, body) = Self.badRequests[index]
        let (node, storage) = singleNode()
        let before = storage.record(for: "k")
        let members = node.members
        let effects = node.handle(.client(10, ClientRequest(type: type, body: body)), now: 1)
        let answers = replies(effects)
        #expect(answers.count == 1)
        #expect(answers.first?.type == "ERROR")
        #expect(answers.first?.body.stringValue?.isEmpty == false)
        #expect(effects.count == 1, "no other effect: \(effects)")
        #expect(storage.record(for: "k") == before)
        #expect(node.members == members)
        #expect(storage.keys() == ["k"])
    }

    /// Each well-formed local request is answered exactly once with the
    /// response type of SPEC §2; JOIN and LEAVE are never answered.
    @Test func everyRequestTypeAnswersOnceWithItsType() {
        let (node, _) = singleNode()
        let cases: [(String, JSON, String?)] = [
            ("GET_MEMBERS", .null, "MEMBERS"),
            ("GET", ["key": "k", "quorum": 1], "GET_RESP"),
            ("PUT", ["key": "k", "value": "w", "quorum": 1], "PUT_RESP"),
            ("LOOKUP", "k", "LOOKUP_RESP"),
            ("COUNT_RECORDS", .null, "COUNT_RECORDS_RESP"),
            ("DUMP_KEYS", .null, "DUMP_KEYS_RESP"),
            ("LIST_KEYS", [:], "LIST_KEYS_RESP"),
            ("JOIN", "127.0.0.1:9701", nil),
        ]
        for (i, (type, body, expected)) in cases.enumerated() {
            let answers = replies(
                node.handle(.client(RequestID(100 + i), ClientRequest(type: type, body: body)), now: 2))
            #expect(answers.map(\.type) == (expected.map { [$0] } ?? []), "\(type)")
        }
        #expect(replies(node.handle(.client(200, ClientRequest(type: "LEAVE")), now: 3)).isEmpty)
    }

    /// The response bodies have the exact shapes of SPEC §2.
    @Test func responseShapes() {
        let (node, _) = singleNode()
        let members = replies(node.handle(.client(5, ClientRequest(type: "GET_MEMBERS")), now: 1))
        #expect(members.first?.body == ["solo"])
        let lookup = replies(node.handle(.client(6, ClientRequest(type: "LOOKUP", body: "k")), now: 1))
        #expect(lookup.first?.body == [["solo", "127.0.0.1:9701"]])
        let count = replies(node.handle(.client(7, ClientRequest(type: "COUNT_RECORDS")), now: 1))
        #expect(count.first?.body == 1)
        let keys = replies(node.handle(.client(8, ClientRequest(type: "DUMP_KEYS")), now: 1))
        #expect(keys.first?.body == ["k"])
        let page = replies(
            node.handle(.client(11, ClientRequest(type: "LIST_KEYS", body: ["prefix": "k", "limit": 5])), now: 1))
        #expect(page.first?.body == ["keys": ["k"], "next": .null])
        let absent = replies(
            node.handle(.client(9, ClientRequest(type: "GET", body: ["key": "nope", "quorum": 1])), now: 1))
        #expect(absent.first?.body == ["values": [], "metadata": []])
        let read = replies(
            node.handle(.client(10, ClientRequest(type: "GET", body: ["key": "k", "quorum": 1])), now: 1))
        #expect(read.first?.body["values"] == ["v"])
        guard case .array(let metadata)? = read.first?.body["metadata"], let meta = metadata.first?.stringValue else {
            Issue.record("GET_RESP without metadata")
            return
        }
        #expect(meta.hasPrefix("solo.") && meta.hasSuffix(":1|"), "first write's dot, empty past: \(meta)")
    }

    /// Before JOIN a node refuses reads and writes with an ERROR.
    @Test func dataRequestsBeforeJoinAreRefused() {
        let node = KvorumNode(config: NodeConfig(name: "n", address: "a:1"), storage: MemoryStorage())
        _ = node.handle(.start, now: 0)
        let answers = replies(
            node.handle(.client(1, ClientRequest(type: "GET", body: ["key": "k", "quorum": 1])), now: 0))
        #expect(answers.map(\.type) == ["ERROR"])
    }

    /// Two writes with the same context through the same coordinator both
    /// survive as siblings; a write with the context of both replaces both.
    @Test func sameContextWritesBecomeSiblings() {
        let (node, _) = singleNode()
        let first = replies(
            node.handle(.client(20, ClientRequest(type: "GET", body: ["key": "k", "quorum": 1])), now: 1))
        let context = first[0].body["metadata"]!
        guard case .array(let metas) = context, let meta = metas.first else {
            Issue.record("no metadata")
            return
        }
        for (i, value) in ["a", "b"].enumerated() {
            _ = node.handle(
                .client(
                    RequestID(21 + i),
                    ClientRequest(
                        type: "PUT", body: ["key": "k", "value": .string(value), "quorum": 1, "metadata": meta])),
                now: 1)
        }
        let both = replies(
            node.handle(.client(30, ClientRequest(type: "GET", body: ["key": "k", "quorum": 1])), now: 1))
        #expect(both[0].body["values"] == ["a", "b"])
        guard case .array(let siblingMetas)? = both[0].body["metadata"] else { return }
        let joined = try! siblingMetas.compactMap(\.stringValue).map(Metadata.context(from:))
            .reduce(VersionVector()) { $0.joined($1) }
        _ = node.handle(
            .client(
                31,
                ClientRequest(
                    type: "PUT",
                    body: ["key": "k", "value": "c", "quorum": 1, "metadata": .string(Metadata.encode(joined))])),
            now: 1)
        let last = replies(
            node.handle(.client(32, ClientRequest(type: "GET", body: ["key": "k", "quorum": 1])), now: 1))
        #expect(last[0].body["values"] == ["c"])
    }
}
