import KvorumTestKit
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
        dot: Dot(actor: "n1", counter: 1), context: nil, payload: .value(Value(text: "cheese,wine")),
        local: SiblingSet())

    /// The record one coordinator holds after applying `writes` in order,
    /// each with the context `start.history` and the coordinator's next dot.
    private func coordinate(_ writes: [String]) -> SiblingSet {
        var record = SiblingSet([Self.start], policy: .xcart)
        for (index, value) in writes.enumerated() {
            let version = MergePolicy.xcart.newVersion(
                dot: Dot(actor: "n1", counter: UInt64(index) + 2), context: Self.start.history,
                payload: .value(Value(text: value)),
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

    /// Random histories through two coordinators, each write from the view
    /// of a random earlier read, then a batch of three writes from earlier
    /// reads applied in every order: the batch ends with the same items in
    /// every order, and the record rebuilds every earlier read's items.
    @Test func randomBatchesAreOrderIndependent() {
        var random = SplitMix64(seed: 11)
        for round in 0..<300 {
            var record = SiblingSet()
            var reads = [Read(context: VersionVector(), items: [])]
            for _ in 0..<(2 + random.below(5)) {
                let read = reads[random.below(reads.count)]
                let coordinator = random.below(2) == 0 ? "n1" : "n2"
                record = Self.write(read.edited(&random), context: read.context, at: coordinator, to: record)
                reads.append(Read(context: record.context, items: Self.items(record)))
            }
            for read in reads {
                let view = XCart.view(at: read.context, of: record)
                #expect(Set(view.live.map(\.item)) == Set(read.items), "round \(round): view at \(read.context)")
            }
            let batch = (0..<3).map { _ in
                let read = reads[random.below(reads.count)]
                return (value: read.edited(&random), context: read.context)
            }
            let outcomes = Set(
                permutations(batch).map { order in
                    Set(
                        Self.items(order.reduce(record) { Self.write($1.value, context: $1.context, at: "n1", to: $0) })
                    )
                })
            #expect(outcomes.count == 1, "round \(round): \(outcomes)")
        }
    }

    /// A client's read: the context it got and the items it saw.
    private struct Read {
        var context: VersionVector
        var items: [String]

        /// The items with each dropped at random (one in three) and maybe one
        /// added from a small pool, so re-adds happen too.
        func edited(_ random: inout SplitMix64) -> String {
            var out = items.filter { _ in random.below(3) != 0 }
            if random.below(2) == 0 { out.append(["a", "b", "c", "d", "e"][random.below(5)]) }
            return CartMerge.union(out)
        }
    }

    /// `record` after `coordinator` writes `value` with `context`, taking its next dot as `coordinateWrite` does.
    private static func write(_ value: String, context: VersionVector, at coordinator: String, to record: SiblingSet)
        -> SiblingSet
    {
        let counter = max(record.maxCounter(of: coordinator), context.maxCounter(of: coordinator)) + 1
        let version = MergePolicy.xcart.newVersion(
            dot: Dot(actor: coordinator, counter: counter), context: context, payload: .value(Value(text: value)),
            local: record)
        return record.merged(with: SiblingSet([version], policy: .xcart), policy: .xcart)
    }

    /// The items a read of `record` returns.
    private static func items(_ record: SiblingSet) -> [String] {
        record.values.flatMap(CartMerge.items)
    }

    /// A client that saw the removal and puts the item back adds it afresh:
    /// the re-add survives a concurrent write that kept the old cart.
    @Test func reAddAfterSeenRemovalIsAnAdd() {
        var record = coordinate(["cheese"])
        let removal = record.versions[0]
        let readd = MergePolicy.xcart.newVersion(
            dot: Dot(actor: "n1", counter: 3), context: removal.history, payload: .value(Value(text: "cheese,wine")),
            local: record)
        record.add([readd], policy: .xcart)
        let kept = MergePolicy.xcart.newVersion(
            dot: Dot(actor: "n1", counter: 4), context: Self.start.history, payload: .value(Value(text: "cheese,wine")),
            local: record)
        record.add([kept], policy: .xcart)
        #expect(record.values == ["cheese,wine"])
        #expect(readd.tags?.contains(ItemTag(item: "wine", dot: Dot(actor: "n1", counter: 3))) == true)
    }
}
