import Testing

@testable import KvorumCore

/// What deleting means under each merge policy (docs/architecture.md,
/// "Deletes and reaping"): a tombstone supersedes what its context covers;
/// a cart is deleted only when every version it merges is a tombstone; an
/// `xcart` delete removes exactly the items its context saw.
@Suite("Deletes under each merge policy")
struct DeleteMergeTests {
    private func version(
        _ policy: MergePolicy, _ actor: String, _ counter: UInt64, _ payload: Payload,
        context: VersionVector = VersionVector(), local: SiblingSet = SiblingSet()
    ) -> Version {
        policy.newVersion(dot: Dot(actor: actor, counter: counter), context: context, payload: payload, local: local)
    }

    /// Plain keys: the tombstone supersedes what it saw and nothing else; a
    /// write it did not see stays live beside it, and a read of the two
    /// returns that value and counts the tombstone.
    @Test func plainDeleteKeepsAConcurrentWrite() {
        let first = version(.keepAll, "a", 1, .value("v"))
        let tombstone = version(.keepAll, "b", 1, .tombstone, context: first.history)
        let concurrent = version(.keepAll, "c", 1, .value("w"), context: first.history)
        let set = SiblingSet([first, tombstone, concurrent])
        #expect(set.versions.count == 2)
        #expect(!set.isDeleted)
        let read = ReadResult(set)
        #expect(read.values == ["w"] && read.tombstones == 1)
        #expect(read.context.covers(Dot(actor: "b", counter: 1)))
        #expect(SiblingSet([first, tombstone]).isDeleted)
        #expect(ReadResult(SiblingSet([first, tombstone])).isAbsent)
    }

    /// `cart` keys: a delete merged with an add it did not see leaves the
    /// add's items (the union cart cannot remove concurrently); two
    /// concurrent deletes merge into one tombstone.
    @Test func cartIsDeletedOnlyWhenEveryMergedVersionIs() {
        let start = version(.cart, "a", 1, .value("milk,eggs"))
        let delete = version(.cart, "b", 1, .tombstone, context: start.history)
        let add = version(.cart, "c", 1, .value("milk,eggs,bread"), context: start.history)
        let merged = SiblingSet([start, delete, add], policy: .cart)
        #expect(merged.versions.count == 1)
        #expect(merged.versions[0].payload == .value("bread,eggs,milk"))
        let otherDelete = version(.cart, "c", 2, .tombstone, context: start.history)
        let deleted = SiblingSet([start, delete, otherDelete], policy: .cart)
        #expect(deleted.versions.count == 1 && deleted.isDeleted)
    }

    /// `xcart` keys: a delete is an empty cart as a tombstone. Merged with a
    /// concurrent write, only the item that write added survives: the items
    /// the delete saw stay removed.
    @Test func xcartDeleteRemovesWhatItSaw() {
        let start = version(.xcart, "a", 1, .value("milk,eggs"))
        let local = SiblingSet([start], policy: .xcart)
        let delete = version(.xcart, "b", 1, .tombstone, context: start.history, local: local)
        #expect(delete.tags == [] && delete.removed?.count == 2)
        let add = version(.xcart, "c", 1, .value("milk,eggs,bread"), context: start.history, local: local)
        let merged = SiblingSet([start, delete, add], policy: .xcart)
        #expect(merged.versions.count == 1)
        #expect(merged.versions[0].payload == .value("bread"))
        #expect(SiblingSet([start, delete], policy: .xcart).isDeleted)
    }
}
