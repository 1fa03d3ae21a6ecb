import KvorumTestKit
import Testing

@testable import KvorumCore

struct MemoryStorageTests {
    /// Records are stored, replaced, removed and listed in byte-wise key order.
    @Test func records() {
        let storage = MemoryStorage()
        let record = StoredRecord(siblings: SiblingSet([dotted("a", 1)]), ownActor: "a")
        for key: Key in ["b", "a", "B", "é"] { storage.setRecord(record, for: key) }
        storage.setRecord(StoredRecord(siblings: SiblingSet()), for: "a")
        storage.removeRecord(for: "b")
        #expect(storage.keys() == ["B", "a", "é"])
        #expect(storage.recordCount == 3)
        #expect(storage.record(for: "B") == record)
        #expect(storage.record(for: "a")?.siblings.isEmpty == true)
        #expect(storage.record(for: "b") == nil)
    }

    /// One hint per (target, key), listed by target then key; removing the last clears the target.
    @Test func hints() {
        let storage = MemoryStorage()
        storage.setHint(Hint(target: "n2", key: "k2", sequence: 1))
        storage.setHint(Hint(target: "n1", key: "k9", sequence: 1))
        storage.setHint(Hint(target: "n2", key: "k1", sequence: 1))
        storage.setHint(Hint(target: "n2", key: "k2", sequence: 2))
        #expect(storage.hints().map { "\($0.target)/\($0.key)#\($0.sequence)" } == ["n1/k9#1", "n2/k1#1", "n2/k2#2"])
        storage.removeHint(target: "n2", key: "k1")
        storage.removeHint(target: "n2", key: "k2")
        storage.removeHint(target: "n3", key: "k1")
        #expect(storage.hints() == [Hint(target: "n1", key: "k9", sequence: 1)])
    }

    /// Keys that differ only in Unicode normalisation ("caf\u{E9}" and
    /// "cafe\u{301}", equal as Swift `String`s) are two records and two
    /// hints, as they are in the disk store.
    @Test func keysThatDifferOnlyInNormalisationAreTwoKeys() {
        let storage = MemoryStorage()
        let (nfc, nfd): (Key, Key) = ("caf\u{E9}", "cafe\u{301}")
        storage.setRecord(StoredRecord(siblings: SiblingSet([dotted("a", 1, value: "composed")])), for: nfc)
        storage.setRecord(StoredRecord(siblings: SiblingSet([dotted("a", 2, value: "decomposed")])), for: nfd)
        #expect(storage.recordCount == 2)
        #expect(storage.keys().map { Array($0.utf8) } == [Array(nfd.utf8), Array(nfc.utf8)])
        #expect(storage.record(for: nfc)?.siblings.values == ["composed"])
        #expect(storage.record(for: nfd)?.siblings.values == ["decomposed"])
        storage.setHint(Hint(target: "n1", key: nfc, sequence: 1))
        storage.setHint(Hint(target: "n1", key: nfd, sequence: 2))
        #expect(storage.hints().map(\.sequence) == [2, 1])
        storage.removeRecord(for: nfc)
        storage.removeHint(target: "n1", key: nfc)
        #expect(storage.record(for: nfd)?.siblings.values == ["decomposed"])
        #expect(storage.hints().map(\.sequence) == [2])
    }

    /// The store counts rows as a disk store would touch them: a listing of
    /// a partition reads its own keys only (at least one row, to find it),
    /// and reads inside `uncounted` are left out.
    @Test func countsTheRowsItReadsAndWrites() {
        let storage = MemoryStorage()
        let record = StoredRecord(siblings: SiblingSet([dotted("a", 1)]))
        let keys = (0..<200).map { Key("k\($0)") }
        for key in keys { storage.setRecord(record, for: key, partitionCount: 16) }
        storage.setRecord(record, for: keys[0], partitionCount: 16)
        #expect(storage.work.rowsWritten == 201)
        #expect(storage.work.rowsRead == 0)

        let before = storage.work
        let partition = Ring.partition(of: keys[0], partitionCount: 16)
        let listed = storage.digests(inPartition: partition)
        let inPartition = keys.filter { Ring.partition(of: $0, partitionCount: 16) == partition }
        #expect(listed.map(\.key) == inPartition.sorted())
        #expect((storage.work - before).rowsRead == inPartition.count)
        #expect(storage.digests(inPartition: 99).isEmpty)
        #expect((storage.work - before).rowsRead == inPartition.count + 1)

        storage.removeRecord(for: keys[0])
        #expect(storage.digests(inPartition: partition).map(\.key) == inPartition.sorted().filter { $0 != keys[0] })
        let counted = storage.work
        _ = storage.uncounted { (storage.keys(), storage.hints(), storage.record(for: keys[1])) }
        #expect(storage.work == counted)
        _ = storage.record(for: keys[1])
        #expect((storage.work - counted).rowsRead == 1)
    }

    /// Membership is kept as given and epochs never repeat.
    @Test func membershipAndEpochs() {
        let storage = MemoryStorage()
        let entries = [MemberEntry(name: "n1", address: "h:1", status: .up, version: 3)]
        storage.setMembership(entries)
        #expect(storage.membership() == entries)
        let epochs = (0..<5).map { _ in storage.nextEpoch() }
        #expect(Set(epochs).count == 5)
        #expect(epochs == epochs.sorted())
    }
}
