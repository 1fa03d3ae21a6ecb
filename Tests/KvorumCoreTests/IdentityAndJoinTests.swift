import Testing

@testable import KvorumCore

/// Node identity and JOIN refusals, on nodes driven directly.
@Suite("Identity and JOIN refusals")
struct IdentityAndJoinTests {
    private static func address(_ name: String) -> Address {
        "127.0.0.1:97\(["a": "01", "b": "02", "c": "03", "d": "04"][name] ?? "99")"
    }

    private static func entry(_ name: String, address: Address? = nil, version: UInt64 = 1) -> MemberEntry {
        MemberEntry(
            name: name, address: address ?? Self.address(name), status: .up, version: version,
            identity: NodeConfig(name: name, address: "").identity)
    }

    /// Node `a` in a cluster of a, b and c.
    private func memberOfThree() -> KvorumNode {
        let node = KvorumNode(config: NodeConfig(name: "a", address: Self.address("a")), storage: MemoryStorage())
        _ = node.handle(.start, now: 0)
        _ = node.handle(.client(1, ClientRequest(type: "JOIN", body: .string(Self.address("a")))), now: 0)
        let view = PeerMessage(from: "b", viewDigest: 0, body: .view(["a", "b", "c"].map { Self.entry($0) }))
        _ = node.handle(.peer(from: Self.address("b"), view), now: 0)
        #expect(node.members == ["a", "b", "c"])
        return node
    }

    private func joinRefusals(_ effects: [Effect]) -> [(to: Address, reason: String)] {
        effects.compactMap {
            if case .send(let to, let message) = $0, case .joinRefused(let reason) = message.body {
                return (to, reason)
            }
            return nil
        }
    }

    @Test func anImpostorUnderAMembersNameIsRefusedAndTakesNothingOver() {
        let node = memberOfThree()
        var impostor = Self.entry("b", address: "127.0.0.1:9799", version: 5)
        impostor.identity = 77
        let effects = node.handle(
            .peer(from: "127.0.0.1:9799", PeerMessage(from: "b", viewDigest: 0, body: .join(impostor))), now: 1)
        let refusals = joinRefusals(effects)
        #expect(refusals.map(\.to) == ["127.0.0.1:9799"])
        #expect(refusals.first?.reason.contains("belongs to another node, the member at \(Self.address("b"))") == true)
        #expect(node.view.entries["b"] == Self.entry("b"))
        let pushed = node.handle(
            .peer(from: Self.address("c"), PeerMessage(from: "c", viewDigest: 0, body: .view([impostor]))), now: 1)
        #expect(node.view.entries["b"] == Self.entry("b"), "a pushed view let the impostor in: \(pushed)")
    }

    @Test func theGenuineNodeOnANewAddressIsTakenBack() {
        let node = memberOfThree()
        let moved = Self.entry("b", address: "127.0.0.1:9798", version: 2)
        let effects = node.handle(
            .peer(from: "127.0.0.1:9798", PeerMessage(from: "b", viewDigest: 0, body: .join(moved))), now: 1)
        #expect(joinRefusals(effects).isEmpty)
        #expect(node.view.entries["b"] == moved)
    }

    @Test func anEntryWithoutIdentityMatchesAny() {
        let node = memberOfThree()
        var old = Self.entry("b", address: "127.0.0.1:9797", version: 2)
        old.identity = 0
        _ = node.handle(.peer(from: "127.0.0.1:9797", PeerMessage(from: "b", viewDigest: 0, body: .join(old))), now: 1)
        #expect(node.view.entries["b"] == old)
    }

    @Test func aRefusedJoinerStopsAskingAndSaysWhy() {
        let node = KvorumNode(config: NodeConfig(name: "b", address: "127.0.0.1:9799"), storage: MemoryStorage())
        _ = node.handle(.start, now: 0)
        let joining = node.handle(.client(1, ClientRequest(type: "JOIN", body: .string(Self.address("a")))), now: 0)
        #expect(joining.contains(.setTimer(.join, after: node.config.joinRetryInterval)))
        let refused = node.handle(
            .peer(from: Self.address("a"), PeerMessage(from: "a", viewDigest: 0, body: .joinRefused(reason: "taken"))),
            now: 1)
        #expect(refused.contains(.cancelTimer(.join)))
        let get = node.handle(.client(2, ClientRequest(type: "GET", body: ["key": "k", "quorum": 1])), now: 2)
        #expect(get == [.reply(2, .failed("node b was refused as a member: taken", .unavailable))])
        #expect(node.handle(.timer(.join), now: 3).isEmpty)
    }

    @Test func aMemberRefusesToJoinAnotherClusterAndKeepsServing() {
        let node = memberOfThree()
        let effects = node.handle(.command(5, .join(contact: "10.9.9.9:7700")), now: 1)
        guard case .reply(5, .failed(let reason, .badRequest))? = effects.first, effects.count == 1 else {
            Issue.record("expected one refusal, got \(effects)")
            return
        }
        #expect(reason.contains("already a member of a cluster of 3"))
        let put = node.handle(.command(6, .put(key: "k", value: "v", quorum: 1, context: nil)), now: 1)
        #expect(put.contains { if case .reply(6, .written) = $0 { true } else { false } })
    }

    @Test func aMemberMayReannounceItselfToAMemberAndAClusterOfOneMayJoinAnother() {
        let node = memberOfThree()
        let again = node.handle(.command(5, .join(contact: Self.address("b"))), now: 1)
        #expect(again.contains(.reply(5, .accepted)))
        let alone = KvorumNode(config: NodeConfig(name: "d", address: Self.address("d")), storage: MemoryStorage())
        _ = alone.handle(.start, now: 0)
        _ = alone.handle(.command(1, .join(contact: Self.address("d"))), now: 0)
        #expect(alone.handle(.command(2, .join(contact: Self.address("a"))), now: 0).contains(.reply(2, .accepted)))
    }
}
