import Testing

@testable import KvorumCore

/// REMOVE on one node driven directly: what it changes when it is allowed,
/// and the refusals, each of which is one ERROR that changes nothing.
@Suite("REMOVE requests")
struct RemoveRequestTests {
    private static func address(_ name: String) -> Address {
        "127.0.0.1:97\(["a": "01", "b": "02", "c": "03"][name] ?? "99")"
    }

    /// Node `a` in a cluster of a, b and c (learnt from b's view), holding
    /// key `k` and a stand-in's hint for c.
    private func memberOfThree() -> (KvorumNode, MemoryStorage) {
        let storage = MemoryStorage()
        let node = KvorumNode(config: NodeConfig(name: "a", address: Self.address("a")), storage: storage)
        _ = node.handle(.start, now: 0)
        _ = node.handle(.client(1, ClientRequest(type: "JOIN", body: .string(Self.address("a")))), now: 0)
        let entries = ["a", "b", "c"].map {
            MemberEntry(name: $0, address: Self.address($0), status: .up, version: 1)
        }
        _ = node.handle(
            .peer(from: Self.address("b"), PeerMessage(from: "b", viewDigest: 0, body: .view(entries))), now: 0)
        #expect(node.members == ["a", "b", "c"])
        _ = node.handle(.client(2, ClientRequest(type: "PUT", body: ["key": "k", "value": "v", "quorum": 1])), now: 0)
        node.addHint(target: "c", key: "k")
        return (node, storage)
    }

    private func replies(_ effects: [Effect]) -> [ClientResponse] {
        effects.compactMap {
            if case .reply(_, let reply) = $0 { return ClientResponse(reply) }
            return nil
        }
    }

    private func viewPushes(_ effects: [Effect]) -> [Address] {
        effects.compactMap {
            if case .send(let to, let message) = $0, case .view = message.body { return to }
            return nil
        }
    }

    /// The named member is marked left with its entry's next version and
    /// leaves the ring; every other member, the removed one included, gets
    /// the view; the hint kept for it now targets a replica of the key.
    @Test func removesTheMemberAndTellsEveryone() {
        let (node, storage) = memberOfThree()
        let effects = node.handle(.client(10, ClientRequest(type: "REMOVE", body: "c")), now: 1)
        #expect(replies(effects) == [ClientResponse(type: "REMOVE_RESP", body: "c")])
        #expect(node.members == ["a", "b"])
        #expect(node.view.entries["c"] == MemberEntry(name: "c", address: Self.address("c"), status: .left, version: 2))
        #expect(viewPushes(effects) == [Self.address("b"), Self.address("c")])
        #expect(storage.hints().map(\.target) == ["b"])
        let lookup = replies(node.handle(.client(11, ClientRequest(type: "LOOKUP", body: "k")), now: 1))
        #expect(lookup.first?.body == [["a", .string(Self.address("a"))], ["b", .string(Self.address("b"))]])
    }

    /// Each refusal: one ERROR with the reason, and nothing else happens.
    @Test(arguments: [
        ("a", "LEAVE", ClientResponse.Failure.badRequest),
        ("z", "no member named 'z'", .badRequest),
        ("", "no member named ''", .badRequest),
    ])
    func refusals(member: String, reason: String, failure: ClientResponse.Failure) {
        let (node, storage) = memberOfThree()
        let hints = storage.hints()
        let effects = node.handle(.client(10, ClientRequest(type: "REMOVE", body: .string(member))), now: 1)
        #expect(effects.count == 1, "\(effects)")
        let answer = replies(effects).first
        #expect(answer?.type == "ERROR" && answer?.failure == failure)
        #expect(answer?.body.stringValue?.contains(reason) == true, "\(String(describing: answer))")
        #expect(node.members == ["a", "b", "c"])
        #expect(storage.hints() == hints)
    }

    /// A member already removed (or gone by LEAVE) cannot be removed again.
    @Test func aMemberThatLeftIsRefused() {
        let (node, _) = memberOfThree()
        _ = node.handle(.client(10, ClientRequest(type: "REMOVE", body: "c")), now: 1)
        let effects = node.handle(.client(11, ClientRequest(type: "REMOVE", body: "c")), now: 2)
        #expect(effects.count == 1)
        #expect(replies(effects).first?.body.stringValue?.contains("already left") == true)
        #expect(node.view.entries["c"]?.version == 2)
    }

    /// A node outside any cluster (never joined, left, or still joining)
    /// refuses: its view is no ground to remove anyone.
    @Test func aNodeThatIsNotAMemberRefuses() {
        let fresh = KvorumNode(config: NodeConfig(name: "a", address: Self.address("a")), storage: MemoryStorage())
        _ = fresh.handle(.start, now: 0)
        let (left, _) = memberOfThree()
        _ = left.handle(.client(5, ClientRequest(type: "LEAVE")), now: 1)
        let joining = KvorumNode(config: NodeConfig(name: "a", address: Self.address("a")), storage: MemoryStorage())
        _ = joining.handle(.start, now: 0)
        _ = joining.handle(.client(1, ClientRequest(type: "JOIN", body: .string(Self.address("b")))), now: 0)
        for node in [fresh, left, joining] {
            let effects = node.handle(.client(10, ClientRequest(type: "REMOVE", body: "b")), now: 2)
            #expect(effects.count == 1, "\(effects)")
            let answer = replies(effects).first
            #expect(answer?.type == "ERROR" && answer?.failure == .unavailable, "\(String(describing: answer))")
        }
    }

    /// A removed node that hears of it stops serving data until it JOINs
    /// again, with a newer entry than the one that removed it.
    @Test func theRemovedNodeLearnsItHasLeftAndMayJoinAgain() {
        let storage = MemoryStorage()
        let node = KvorumNode(config: NodeConfig(name: "c", address: Self.address("c")), storage: storage)
        _ = node.handle(.start, now: 0)
        _ = node.handle(.client(1, ClientRequest(type: "JOIN", body: .string(Self.address("c")))), now: 0)
        let removed = ["a", "b", "c"].map {
            MemberEntry(
                name: $0, address: Self.address($0), status: $0 == "c" ? .left : .up, version: $0 == "c" ? 2 : 1)
        }
        _ = node.handle(
            .peer(from: Self.address("a"), PeerMessage(from: "a", viewDigest: 0, body: .view(removed))), now: 1)
        #expect(node.members == ["a", "b"])
        let refused = replies(
            node.handle(.client(2, ClientRequest(type: "GET", body: ["key": "k", "quorum": 1])), now: 1))
        #expect(refused.first?.type == "ERROR" && refused.first?.failure == .unavailable)
        _ = node.handle(.client(3, ClientRequest(type: "JOIN", body: .string(Self.address("a")))), now: 2)
        #expect(
            node.view.entries["c"]
                == MemberEntry(
                    name: "c", address: Self.address("c"), status: .up, version: 3, identity: node.config.identity))
    }
}
