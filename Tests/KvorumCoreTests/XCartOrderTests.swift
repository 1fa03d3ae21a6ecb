import Testing

@testable import KvorumCore

/// Issue 11 §7: two `xcart` writes from the same context reach one
/// coordinator, one removing an item and one keeping it. What the keeping
/// write keeps must be what its client saw, not what the coordinator holds
/// when the write arrives, so the merged cart is the same in both arrival
/// orders.
@Suite("XCart arrival order")
struct XCartOrderTests {
    /// The cart both clients read: `cheese,wine`, written as `n1:1`.
    static let start = MergePolicy.xcart.newVersion(
        dot: Dot(actor: "n1", counter: 1), context: nil, value: "cheese,wine", local: SiblingSet())

    /// The record one coordinator holds after applying `writes` in order,
    /// each with the context `start.history` and the coordinator's next dot.
    private func coordinate(_ writes: [String]) -> SiblingSet {
        var record = SiblingSet([Self.start], policy: .xcart)
        for (index, value) in writes.enumerated() {
            let version = MergePolicy.xcart.newVersion(
                dot: Dot(actor: "n1", counter: UInt64(index) + 2), context: Self.start.history, value: value,
                local: record)
            record.add([version], policy: .xcart)
        }
        return record
    }

    /// A removal of `wine` and a write keeping it, from the same read: `wine`
    /// stays removed whichever arrives first (the keeping write did not add
    /// it, so the removal deletes the one add it observed).
    @Test func removeAndKeepFromOneContext() {
        let removeFirst = coordinate(["cheese", "cheese,wine"])
        let keepFirst = coordinate(["cheese,wine", "cheese"])
        #expect(removeFirst.values == ["cheese"])
        #expect(keepFirst.values == ["cheese"])
        #expect(removeFirst.versions.map(\.tags) == keepFirst.versions.map(\.tags))
    }

    /// The same with a third item the keeping write adds: the add survives
    /// and the removal holds, in both orders.
    @Test func removeAndKeepWithAnAdd() {
        let removeFirst = coordinate(["cheese", "cheese,wine,jam"])
        let keepFirst = coordinate(["cheese,wine,jam", "cheese"])
        #expect(removeFirst.values == ["cheese,jam"])
        #expect(keepFirst.values == ["cheese,jam"])
    }

    /// A client that saw the removal and puts the item back adds it afresh:
    /// the re-add survives a concurrent write that kept the old cart.
    @Test func reAddAfterSeenRemovalIsAnAdd() {
        var record = coordinate(["cheese"])
        let removal = record.versions[0]
        let readd = MergePolicy.xcart.newVersion(
            dot: Dot(actor: "n1", counter: 3), context: removal.history, value: "cheese,wine", local: record)
        record.add([readd], policy: .xcart)
        let kept = MergePolicy.xcart.newVersion(
            dot: Dot(actor: "n1", counter: 4), context: Self.start.history, value: "cheese,wine", local: record)
        record.add([kept], policy: .xcart)
        #expect(record.values == ["cheese,wine"])
        #expect(readd.tags?.contains(ItemTag(item: "wine", dot: Dot(actor: "n1", counter: 3))) == true)
    }
}
