import Testing

@testable import KvorumCore

/// What a node reports to its operator (`Observation`) beside its effects:
/// membership changes and hinted handoff, on a node driven directly.
@Suite("Observations")
struct ObservationTests {
    private static func address(_ name: String) -> Address {
        "127.0.0.1:96\(["a": "01", "b": "02", "c": "03", "d": "04"][name] ?? "99")"
    }

    private static func entry(_ name: String) -> MemberEntry {
        MemberEntry(
            name: name, address: address(name), status: .up, version: 1,
            identity: NodeConfig(name: name, address: "").identity)
    }

    private static func message(from peer: String, _ body: PeerBody) -> Event {
        .peer(from: address(peer), PeerMessage(from: peer, viewDigest: 0, body: body))
    }

    /// Node `a` in a cluster of a, b and c.
    private func memberOfThree() -> KvorumNode {
        let node = KvorumNode(config: NodeConfig(name: "a", address: Self.address("a")), storage: MemoryStorage())
        _ = node.handle(.start, now: 0)
        _ = node.handle(.client(1, ClientRequest(type: "JOIN", body: .string(Self.address("a")))), now: 0)
        _ = node.handle(Self.message(from: "b", .view(["a", "b", "c"].map { Self.entry($0) })), now: 0)
        #expect(node.members == ["a", "b", "c"])
        return node
    }

    /// A JOIN through `a` is reported once, with the newcomer's name and
    /// address, then the view change with the members now up; the same
    /// JOIN again changes nothing and reports nothing.
    @Test func aJoinIsReportedOnceWithTheView() {
        let node = memberOfThree()
        _ = node.handle(Self.message(from: "d", .join(Self.entry("d"))), now: 1)
        #expect(
            node.observations == [
                .joinAccepted(name: "d", address: Self.address("d")), .viewChanged(members: ["a", "b", "c", "d"]),
            ])
        _ = node.handle(Self.message(from: "d", .join(Self.entry("d"))), now: 2)
        #expect(node.observations == [])
    }

    /// A copy stored for `b` (a stand-in's write) is a hint for b; the
    /// handoff timer starts a handoff of one key, a second round while the
    /// batch is unacknowledged starts none, and b's acknowledgement hands
    /// the hint off and finishes the handoff.
    @Test func aHandoffIsReportedFromHintToFinish() throws {
        let node = memberOfThree()
        let siblings = SiblingSet([Version(dot: Dot(actor: "c.1", counter: 1), past: VersionVector(), value: "v")])
        _ = node.handle(Self.message(from: "c", .write(op: 9, key: "k", siblings: siblings, hintFor: "b")), now: 1)
        #expect(node.observations == [.hintStored(target: "b")])
        #expect(node.pendingHintsByTarget.map(\.target) == ["b"] && node.pendingHintsByTarget.map(\.count) == [1])

        let first = node.handle(.timer(.handoff), now: 3)
        #expect(node.observations == [.handoffStarted(target: "b", keys: 1)])
        _ = node.handle(.timer(.handoff), now: 5)
        #expect(node.observations == [])
        let batches = node.handle(.timer(.handoff), now: 7).compactMap { effect -> UInt64? in
            if case .send(_, let message) = effect, case .handoff(let batch, _) = message.body { return batch }
            return nil
        }
        #expect(!first.isEmpty)
        let batch = try #require(batches.last)
        _ = node.handle(Self.message(from: "b", .handoffAck(batch: batch)), now: 8)
        #expect(node.observations == [.hintsHandedOff(target: "b", keys: 1), .handoffFinished(target: "b")])
        #expect(node.pendingHintsByTarget.isEmpty)
    }
}
