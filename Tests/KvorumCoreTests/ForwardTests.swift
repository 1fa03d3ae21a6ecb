import Testing

@testable import KvorumCore

/// Two-phase forwarding on single nodes driven directly: the replica runs a
/// `forwardPut` once however often it arrives, and the forwarder hands a
/// write over once, only to the replica it offered it to.
@Suite("Forwarded writes")
struct ForwardTests {
    static let forwarderAddress = "127.0.0.1:9709"

    /// A node that started a cluster of one.
    private func soloNode(ledger: Int = 4096) -> KvorumNode {
        var config = NodeConfig(name: "solo", address: "127.0.0.1:9701")
        config.forwardLedgerCapacity = ledger
        let node = KvorumNode(config: config, storage: MemoryStorage())
        _ = node.handle(.start, now: 0)
        _ = node.handle(.client(1, ClientRequest(type: "JOIN", body: "127.0.0.1:9701")), now: 0)
        return node
    }

    private func forwardPut(_ node: KvorumNode, op: UInt64, value: String, now: Double) -> [Effect] {
        let body = PeerBody.forwardPut(op: op, key: "k", payload: .value(Value(text: value)), context: nil, quorum: 1)
        let message = PeerMessage(from: "fwd", viewDigest: node.view.digest, body: body)
        return node.handle(.peer(from: Self.forwarderAddress, message), now: now)
    }

    private func sentBodies(_ effects: [Effect]) -> [PeerBody] {
        effects.compactMap {
            if case .send(_, let message) = $0 { return message.body }
            return nil
        }
    }

    /// A `forwardPut` delivered twice is coordinated once and answered once.
    @Test func duplicatedForwardPutRunsOnce() {
        let node = soloNode()
        let first = sentBodies(forwardPut(node, op: 7, value: "x", now: 1))
        #expect(first.map(\.kind) == ["forwardResult"])
        #expect(forwardPut(node, op: 7, value: "x", now: 2).isEmpty)
        #expect(node.storage.record(for: "k")?.siblings.values == ["x"])
        #expect(sentBodies(forwardPut(node, op: 8, value: "y", now: 3)).map(\.kind) == ["forwardResult"])
        #expect(node.storage.record(for: "k")?.siblings.values.sorted() == ["x", "y"])
    }

    /// The ledger is bounded and forgets its oldest entries first.
    @Test func ledgerForgetsOldestFirst() {
        var ledger = ForwardLedger(capacity: 2)
        let a = ForwardLedger.Entry(forwarder: "h:1", op: 1)
        let b = ForwardLedger.Entry(forwarder: "h:1", op: 2)
        let c = ForwardLedger.Entry(forwarder: "h:2", op: 1)
        var recorded = [a, b, a, c].map { ledger.record($0) }
        #expect(recorded == [true, true, false, true])
        #expect(ledger.entries == [b, c])
        recorded = [a, c].map { ledger.record($0) }
        #expect(recorded == [true, false])
        #expect(ledger.entries == [c, a])
    }

    /// A replica answers an offer at once and keeps nothing; a forwarder
    /// ignores readiness for an operation it does not have.
    @Test func offersAreStatelessAndStrayReadinessIsIgnored() {
        let node = soloNode()
        let before = node.fingerprint
        let offer = PeerMessage(from: "fwd", viewDigest: node.view.digest, body: .forwardOffer(op: 5))
        #expect(sentBodies(node.handle(.peer(from: Self.forwarderAddress, offer), now: 1)) == [.forwardReady(op: 5)])
        let ready = PeerMessage(from: "fwd", viewDigest: node.view.digest, body: .forwardReady(op: 5))
        #expect(node.handle(.peer(from: Self.forwarderAddress, ready), now: 2).isEmpty)
        #expect(node.fingerprint == before)
    }
}
