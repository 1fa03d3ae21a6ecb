import KvorumTestKit
import Testing

@testable import KvorumCore

@Suite("HintQueue")
struct HintQueueTests {
    private func record(_ value: String) -> StoredRecord {
        StoredRecord(
            siblings: SiblingSet([Version(dot: Dot(actor: "a.1", counter: 1), past: VersionVector(), value: value)]))
    }

    @Test func hintsAreStoredAsTheyAreAddedAndRestoredAfterARestart() {
        let storage = MemoryStorage()
        var queue = HintQueue(restoring: [])
        let added = [
            queue.add(target: "b", key: "k2", limit: 10, storage: storage),
            queue.add(target: "b", key: "k1", limit: 10, storage: storage),
            queue.add(target: "c", key: "k1", limit: 10, storage: storage),
        ]
        #expect(added == [true, true, true])
        #expect(queue.hints == storage.hints())
        #expect(queue.count == 3)
        let restored = HintQueue(restoring: storage.hints())
        #expect(restored == queue)
        #expect(restored.targets == ["b", "c"])
        #expect(restored.keys(for: "b") == ["k1", "k2"])
    }

    @Test func aNewHintPastTheLimitIsRefusedButARenewalIsNot() {
        let storage = MemoryStorage()
        var queue = HintQueue(restoring: [])
        let added = [
            queue.add(target: "b", key: "k1", limit: 1, storage: storage),
            queue.add(target: "b", key: "k2", limit: 1, storage: storage),
            queue.add(target: "b", key: "k1", limit: 1, storage: storage),
        ]
        #expect(added == [true, false, true])
        #expect(storage.hints() == [Hint(target: "b", key: "k1", sequence: 2)])
    }

    @Test func aBatchCarriesRecordsInKeyOrderAndDropsHintsForVanishedRecords() throws {
        let storage = MemoryStorage()
        var queue = HintQueue(restoring: [])
        for key: Key in ["k3", "k1", "k2"] { _ = queue.add(target: "b", key: key, limit: 10, storage: storage) }
        storage.setRecord(record("one"), for: "k1")
        storage.setRecord(record("three"), for: "k3")
        let collected = queue.collectBatch(for: "b", limit: 10, storage: storage)
        let (batch, records) = try #require(collected)
        #expect(records.map(\.key) == ["k1", "k3"])
        #expect(batch.entries.map(\.key) == ["k1", "k3"])
        #expect(!queue.holds("k2"))
        #expect(storage.hints().map(\.key) == ["k1", "k3"])
    }

    @Test func anAcknowledgementClearsOnlyHintsNotRenewedSince() throws {
        let storage = MemoryStorage()
        var queue = HintQueue(restoring: [])
        for key: Key in ["k1", "k2"] {
            storage.setRecord(record(key.text), for: key)
            _ = queue.add(target: "b", key: key, limit: 10, storage: storage)
        }
        let collected = queue.collectBatch(for: "b", limit: 10, storage: storage)
        let (batch, _) = try #require(collected)
        queue.dispatched(batch, id: 41)
        _ = queue.add(target: "b", key: "k2", limit: 10, storage: storage)
        let acknowledged = queue.acknowledge(41, storage: storage)
        let result = try #require(acknowledged)
        #expect(result.target == "b")
        #expect(result.cleared == ["k1"])
        #expect(queue.keys(for: "b") == ["k2"])
        #expect(storage.hints().map(\.key) == ["k2"])
        let again = queue.acknowledge(41, storage: storage)
        #expect(again == nil)
    }

    @Test func aNewBatchSupersedesTheOneInFlight() throws {
        let storage = MemoryStorage()
        var queue = HintQueue(restoring: [])
        storage.setRecord(record("v"), for: "k")
        _ = queue.add(target: "b", key: "k", limit: 10, storage: storage)
        let collected = queue.collectBatch(for: "b", limit: 10, storage: storage)
        let (first, _) = try #require(collected)
        queue.dispatched(first, id: 1)
        let recollected = queue.collectBatch(for: "b", limit: 10, storage: storage)
        let (second, _) = try #require(recollected)
        queue.dispatched(second, id: 2)
        let late = queue.acknowledge(1, storage: storage)
        #expect(late == nil)
        #expect(queue.holds("k"))
        #expect(queue.batchesInFlight.map(\.id) == [2])
    }

    @Test func aBatchIsBoundedByItsLimit() throws {
        let storage = MemoryStorage()
        var queue = HintQueue(restoring: [])
        for key: Key in ["a", "b", "c"] {
            storage.setRecord(record(key.text), for: key)
            _ = queue.add(target: "t", key: key, limit: 10, storage: storage)
        }
        let collected = queue.collectBatch(for: "t", limit: 2, storage: storage)
        let (_, records) = try #require(collected)
        #expect(records.map(\.key) == ["a", "b"])
    }

    /// Batches walk one pass over the keys in byte order, whether or not the
    /// last batch was acknowledged, instead of sorting every pending key
    /// again and sending the first ones each time; a key hinted during a
    /// pass, and a key whose batch went unacknowledged, go out in the next.
    @Test func batchesWalkAPassAndLaterHintsGoInTheNext() throws {
        let storage = MemoryStorage()
        var queue = HintQueue(restoring: [])
        for key: Key in ["k1", "k2", "k3", "k4", "k5"] {
            storage.setRecord(record(key.text), for: key)
            _ = queue.add(target: "t", key: key, limit: 10, storage: storage)
        }
        var batches: [[Key]] = []
        func collect(acknowledging: Bool) throws {
            let collected = queue.collectBatch(for: "t", limit: 2, storage: storage)
            let (batch, records) = try #require(collected)
            batches.append(records.map(\.key))
            queue.dispatched(batch, id: UInt64(batches.count))
            if acknowledging { _ = queue.acknowledge(UInt64(batches.count), storage: storage) }
        }
        try collect(acknowledging: false)
        storage.setRecord(record("early"), for: "k0")
        _ = queue.add(target: "t", key: "k0", limit: 10, storage: storage)
        try collect(acknowledging: true)
        try collect(acknowledging: true)
        try collect(acknowledging: true)
        #expect(batches == [["k1", "k2"], ["k3", "k4"], ["k5"], ["k0", "k1"]])
        #expect(queue.keys(for: "t") == ["k2"])
    }

    /// Two keys that differ only in Unicode normalisation (equal as Swift
    /// `String`s) are two hints: each carries its own record, and settling
    /// one leaves the other pending.
    @Test func keysThatDifferOnlyInNormalisationAreTwoHints() throws {
        let storage = MemoryStorage()
        var queue = HintQueue(restoring: [])
        let (nfc, nfd): (Key, Key) = ("caf\u{E9}", "cafe\u{301}")
        storage.setRecord(record("composed"), for: nfc)
        storage.setRecord(record("decomposed"), for: nfd)
        _ = queue.add(target: "b", key: nfc, limit: 10, storage: storage)
        _ = queue.add(target: "b", key: nfd, limit: 10, storage: storage)
        #expect(queue.count == 2)
        #expect(queue.hints == storage.hints())
        let collected = queue.collectBatch(for: "b", limit: 10, storage: storage)
        let (batch, records) = try #require(collected)
        #expect(records.map { Array($0.key.utf8) } == [Array(nfd.utf8), Array(nfc.utf8)])
        #expect(records.map(\.siblings.values) == [["decomposed"], ["composed"]])
        queue.dispatched(batch, id: 7)
        _ = queue.add(target: "b", key: nfd, limit: 10, storage: storage)
        let acknowledged = queue.acknowledge(7, storage: storage)
        let result = try #require(acknowledged)
        #expect(result.cleared.map { Array($0.utf8) } == [Array(nfc.utf8)])
        #expect(queue.keys(for: "b").map { Array($0.utf8) } == [Array(nfd.utf8)])
        #expect(queue.hints == storage.hints())
    }
}
