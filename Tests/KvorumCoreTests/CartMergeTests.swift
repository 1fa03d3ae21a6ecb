import Testing

@testable import KvorumCore

struct CartMergeTests {
    /// Items are split on commas with surrounding spaces and tabs trimmed and empty items dropped.
    @Test func items() {
        #expect(CartMerge.items(" cheese , wine,,\tmilk ,") == ["cheese", "wine", "milk"])
        #expect(CartMerge.items("red wine") == ["red wine"])
        #expect(CartMerge.items(" , ,").isEmpty)
        #expect(CartMerge.items("").isEmpty)
    }

    /// The union holds every item once, in byte-wise order.
    @Test func union() {
        #expect(CartMerge.union(["wine,cheese", "cheese, milk", ""]) == "cheese,milk,wine")
        #expect(CartMerge.union(["zoo,éclair", "apple , Zebra", "apple"]) == "Zebra,apple,zoo,éclair")
        #expect(CartMerge.union([" , ", ""]) == "")
        #expect(CartMerge.union([]) == "")
    }

    /// Items that differ only in Unicode normalisation stay apart, so the merged bytes do not depend on order.
    @Test func unionComparesBytes() {
        let composed = "caf\u{E9}"
        let decomposed = "cafe\u{301}"
        let forward = CartMerge.union([composed, decomposed])
        let backward = CartMerge.union([decomposed, composed])
        #expect(Array(forward.utf8) == Array(backward.utf8))
        #expect(Array(forward.utf8) == Array((decomposed + "," + composed).utf8))
        #expect(Array(CartMerge.union([composed, composed]).utf8) == Array(composed.utf8))
    }

    /// The seed's cart siblings merge to exactly the six items.
    @Test func seedScenarioUnion() {
        let value = CartMerge.union(["cheese,wine", "cheese,wine,milk,eggs", "snacks,beer"])
        #expect(value == "beer,cheese,eggs,milk,snacks,wine")
        #expect(Set(CartMerge.items(value)) == ["cheese", "wine", "milk", "eggs", "snacks", "beer"])
    }

    /// Keys starting with `cart` (case-sensitive) use the cart merge; all others keep siblings.
    @Test func policyForKey() {
        #expect(MergePolicy.forKey("cart") == .cart)
        #expect(MergePolicy.forKey("cart-1f3a") == .cart)
        #expect(MergePolicy.forKey("cartography") == .cart)
        #expect(MergePolicy.forKey("Cart-1") == .keepAll)
        #expect(MergePolicy.forKey("my-cart") == .keepAll)
        #expect(MergePolicy.forKey("") == .keepAll)
    }
}

struct CartSiblingSetTests {
    /// The seed's cart history: `cheese,wine`, then side 1 adds milk and eggs while side 2 overwrites.
    static let start = dotted("n1", 1, value: "cheese,wine")
    static let milk = dotted("n1", 2, past: ["n1": 1], value: "cheese,wine,milk")
    static let eggs = dotted("n1", 3, past: ["n1": 2], value: "cheese,wine,milk,eggs")
    static let snacks = dotted("n2", 1, past: ["n1": 1], value: "snacks,beer")

    /// Concurrent cart versions become one merged version with the union of items and the joined history, in any order.
    @Test func concurrentVersionsMergeToOne() {
        let expected = merged(["n1": 3, "n2": 1], value: "beer,cheese,eggs,milk,snacks,wine")
        for order in permutations([Self.start, Self.milk, Self.eggs, Self.snacks]) {
            var oneByOne = SiblingSet()
            for version in order { oneByOne.add([version], policy: .cart) }
            #expect(oneByOne.versions == [expected])
            #expect(SiblingSet(order, policy: .cart).versions == [expected])
        }
        #expect(expected.metadata == "|n1:3,n2:1")
    }

    /// Two concurrent versions merge to one version without a dot whose past joins both histories.
    @Test func twoConcurrentVersions() {
        let x = dotted("a", 2, past: ["a": 1, "b": 1], value: "wine, cheese")
        let y = dotted("b", 2, past: ["b": 1], value: "beer")
        for order in [[x, y], [y, x]] {
            let set = SiblingSet(order, policy: .cart)
            #expect(set.versions.count == 1)
            #expect(set.versions[0].dot == nil)
            #expect(set.versions[0].past == x.history.joined(y.history))
            #expect(set.values == ["beer,cheese,wine"])
        }
    }

    /// Carts whose items differ only in Unicode normalisation merge to the same bytes whatever the arrival order.
    @Test func mergedBytesIndependentOfOrder() {
        let x = dotted("a", 1, value: "caf\u{E9},tea")
        let y = dotted("b", 1, value: "cafe\u{301}")
        let forward = SiblingSet([x, y], policy: .cart).values.map { Array($0.utf8) }
        let backward = SiblingSet([y, x], policy: .cart).values.map { Array($0.utf8) }
        #expect(forward == backward)
    }

    /// A single cart version keeps its value verbatim, unsorted and untrimmed.
    @Test func singleVersionVerbatim() {
        let version = dotted("a", 1, value: "wine, cheese,,wine")
        #expect(SiblingSet([version], policy: .cart).versions == [version])
    }

    /// A write whose context is the merged version's history supersedes it.
    @Test func laterWriteSupersedesMerge() {
        var set = SiblingSet([Self.eggs, Self.snacks], policy: .cart)
        let merge = set.versions[0]
        let write = dotted("n3", 1, past: merge.history.counters, value: "beer")
        set.add([write], policy: .cart)
        #expect(set.versions == [write])
        set.add([Self.start, Self.milk, Self.eggs, Self.snacks, merge], policy: .cart)
        #expect(set.versions == [write])
    }

    /// Re-adding merged-away siblings leaves the merge unchanged.
    @Test func mergeIsStable() {
        let set = SiblingSet([Self.eggs, Self.snacks], policy: .cart)
        #expect(set.merged(with: SiblingSet([Self.snacks, Self.start]), policy: .cart) == set)
        #expect(set.merged(with: set, policy: .cart) == set)
    }

    /// Two merges of the same history with different values converge to the union of both.
    @Test func sameHistoryMergesConverge() {
        let a = merged(["n1": 3, "n2": 1], value: "beer,cheese")
        let b = merged(["n1": 3, "n2": 1], value: "cheese,wine")
        let ab = SiblingSet([a, b], policy: .cart)
        #expect(ab == SiblingSet([b, a], policy: .cart))
        #expect(ab.values == ["beer,cheese,wine"])
    }
}
