import KvorumTestKit
import Testing

@testable import KvorumCore

/// The node is a composition of parts, and its fingerprint is derived from
/// all of them: these tests fail when a stored property is added outside the
/// parts (so the model checker would not see it) or a part grows too large.
@Suite("Node state")
struct NodeStateTests {
    private func startedNode() -> KvorumNode {
        let node = KvorumNode(config: NodeConfig(name: "a", address: "a:1"), storage: MemoryStorage())
        _ = node.handle(.start, now: 0)
        _ = node.handle(.client(1, ClientRequest(type: "JOIN", body: "a:1")), now: 0)
        return node
    }

    @Test func everyStoredPropertyOfTheNodeIsInItsStateOrAccountedFor() {
        let labels = Mirror(reflecting: startedNode()).children.compactMap(\.label)
        // config: constant but for the HTTP address the driver may fill in;
        // storage: the durable half, compared by the model checker on its
        // own; now, effects and observations: the event being handled.
        #expect(labels == ["config", "storage", "state", "now", "effects", "observations"])
    }

    @Test func theStateIsMadeOfTheParts() {
        let node = startedNode()
        let parts = Mirror(reflecting: node.state).children
        #expect(
            parts.compactMap(\.label) == [
                "membership", "detector", "liveness", "hints", "coordinator", "timers", "antiEntropy", "reaper",
            ])
        for part in parts {
            let stored = Mirror(reflecting: part.value).children.count
            #expect(stored <= 5, "\(part.label ?? "?") has \(stored) stored properties")
        }
    }

    @Test func operationsAreSmall() {
        let read = ReadOperation(
            client: 1, key: "k", quorum: 2, replicas: ["a"], candidates: [], pending: [], deadline: 1)
        let write = WriteOperation(
            origin: .client(1), key: "k", quorum: 2, siblings: SiblingSet(), metadata: "", slots: [], candidates: [],
            deadline: 1)
        let forward = ForwardOperation(
            client: 1, key: "k", payload: .value(Value(text: "v")), context: nil, quorum: 2, target: "", tried: [])
        for (name, value) in [("read", read as Any), ("write", write), ("forward", forward)] {
            let stored = Mirror(reflecting: value).children.count
            #expect(stored <= 5, "\(name) operations have \(stored) stored properties")
        }
    }

    @Test func aCopyHasTheSameFingerprintUntilOneOfThemMovesOn() {
        let node = startedNode()
        let copy = KvorumNode(copying: node, storage: (node.storage as! MemoryStorage).copy())
        #expect(copy.fingerprint == node.fingerprint)
        _ = copy.handle(.client(2, ClientRequest(type: "PUT", body: ["key": "k", "value": "v", "quorum": 1])), now: 1)
        #expect(copy.fingerprint != node.fingerprint)
    }

    @Test func eachPartShowsInTheFingerprint() {
        let node = startedNode()
        let before = node.fingerprint
        var changes: [(String, (inout NodeState) -> Void)] = [
            ("detector", { _ = $0.detector.suspect("b") }),
            ("coordinator", { _ = $0.coordinator.newID() }),
            ("antiEntropy", { _ = $0.antiEntropy.nextPeer(among: ["b"]) }),
            ("membership", { $0.membership.setJoinContact("c:1") }),
        ]
        changes.append(
            (
                "timers",
                { state in
                    var effects: [Effect] = []
                    state.timers.arm(.probe, after: 1, effects: &effects)
                }
            ))
        changes.append(("hints", { _ = $0.hints.add(target: "b", key: "k", limit: 10, storage: MemoryStorage()) }))
        for (part, change) in changes {
            var state = node.state
            change(&state)
            #expect(NodeFingerprint(state: state) != before, "a change to \(part) is not in the fingerprint")
        }
    }

    @Test func invariantsHoldInANormalRunAndCatchStorageChangedBehindTheNodesBack() {
        let storage = MemoryStorage()
        let node = KvorumNode(config: NodeConfig(name: "a", address: "a:1"), storage: storage)
        _ = node.handle(.start, now: 0)
        _ = node.handle(.client(1, ClientRequest(type: "JOIN", body: "a:1")), now: 0)
        _ = node.handle(.client(2, ClientRequest(type: "PUT", body: ["key": "k", "value": "v", "quorum": 1])), now: 0)
        #expect(node.invariantViolations() == [])
        storage.setHint(Hint(target: "z", key: "k", sequence: 9))
        storage.removeRecord(for: "k")
        let violations = node.invariantViolations()
        #expect(violations.count == 2)
        #expect(violations.contains { $0.hasPrefix("hints in memory") })
        #expect(violations.contains { $0.hasPrefix("the hash tree holds 1 keys, storage 0") })
    }
}
