import Testing

@testable import KvorumCore

@Suite("Coordinator")
struct CoordinatorTests {
    private func read(_ key: Key, quorum: Int = 2) -> ReadOperation {
        ReadOperation(
            client: 1, key: key, quorum: quorum, replicas: ["a", "b", "c"], candidates: [], pending: ["b", "c"],
            deadline: 10)
    }

    @Test func idsStartInTheEpochsRangeAndNeverRepeat() {
        var coordinator = Coordinator(epoch: 3, ledgerCapacity: 4)
        let ids = [coordinator.newID(), coordinator.newID()]
        #expect(ids == [3 << 32 + 1, 3 << 32 + 2])
        var later = Coordinator(epoch: 4, ledgerCapacity: 4)
        let next = later.newID()
        #expect(next > ids[1])
    }

    @Test func eachOperationIsInItsOwnTable() {
        var coordinator = Coordinator(epoch: 1, ledgerCapacity: 4)
        let r = coordinator.newID()
        let f = coordinator.newID()
        coordinator[read: r] = read("k")
        coordinator[forward: f] = ForwardOperation(
            client: 2, key: "k", payload: .value(Value(text: "v")), context: nil, quorum: 2, target: "b", tried: ["b"])
        #expect(coordinator.kind(of: r) == .read)
        #expect(coordinator.kind(of: f) == .forward)
        #expect(coordinator.kind(of: 99) == nil)
        #expect(coordinator.count == 2)
        #expect(coordinator.ids == [r, f])
        coordinator[read: r] = nil
        #expect(coordinator.ids == [f])
    }

    @Test func aKeyIsBeingWrittenWhileAWriteToItIsLive() {
        var coordinator = Coordinator(epoch: 1, ledgerCapacity: 4)
        let id = coordinator.newID()
        coordinator[write: id] = WriteOperation(
            origin: .client(1), key: "k", quorum: 2, siblings: SiblingSet(), metadata: "m",
            slots: [WriteSlot(replica: "b", holder: "b", state: .pending)], candidates: [], deadline: 10)
        #expect(coordinator.isWriting("k"))
        #expect(!coordinator.isWriting("other"))
    }

    @Test func aForwardIsAdmittedOncePerForwarderAndOperation() {
        var coordinator = Coordinator(epoch: 1, ledgerCapacity: 2)
        let entry = ForwardLedger.Entry(forwarder: "h:1", op: 5)
        let first = coordinator.admitForward(entry)
        let again = coordinator.admitForward(entry)
        let other = coordinator.admitForward(ForwardLedger.Entry(forwarder: "h:2", op: 5))
        #expect(first && !again && other)
    }

    @Test func brokenOperationsAreReported() {
        var coordinator = Coordinator(epoch: 1, ledgerCapacity: 2)
        let id = coordinator.newID()
        var op = read("k", quorum: 2)
        op.answered = true
        coordinator[read: id] = op
        let settled = coordinator.newID()
        coordinator[write: settled] = WriteOperation(
            origin: .client(1), key: "k", quorum: 1, siblings: SiblingSet(), metadata: "m",
            slots: [WriteSlot(replica: "b", holder: "b", state: .stored)], candidates: [], deadline: 10)
        #expect(
            coordinator.violations() == [
                "read \(id) answered with 0 of 2 replies",
                "write \(settled) has placed every copy but is still live",
            ])
    }
}
