import Foundation
import Testing

@testable import KvorumCore

struct VersionTests {
    /// A version descends itself, a copy with the same dot, and a merge of the same history.
    @Test func sameDotDescends() {
        let v = dotted("a", 1)
        #expect(v.descends(v))
        #expect(v.descends(dotted("a", 1)))
        #expect(merged(["a": 1, "b": 1], value: "x").descends(merged(["a": 1, "b": 1], value: "x")))
    }

    /// A version whose context covers another's dot descends it, and not the other way round.
    @Test func coveredDotDescends() {
        let first = dotted("a", 1)
        let second = dotted("a", 2, past: ["a": 1])
        let elsewhere = dotted("b", 1, past: ["a": 1])
        #expect(second.descends(first))
        #expect(!first.descends(second))
        #expect(elsewhere.descends(first))
        #expect(!first.descends(elsewhere))
    }

    /// Writes whose contexts miss each other's dots are concurrent.
    @Test func concurrentDots() {
        let x = dotted("a", 1)
        let y = dotted("b", 1)
        #expect(!x.descends(y))
        #expect(!y.descends(x))
    }

    /// Two writes through the same actor with the same context are concurrent, though their counters are ordered.
    @Test func sameContextSameActorIsConcurrent() {
        let x = dotted("a", 2, past: ["a": 1])
        let y = dotted("a", 3, past: ["a": 1])
        #expect(!x.descends(y))
        #expect(!y.descends(x))
        #expect(y.descends(dotted("a", 1)))
    }

    /// A merged version descends what it merged; later writes with its history as context descend it.
    @Test func mergedVersions() {
        let m = merged(["a": 1, "b": 1], value: "m")
        #expect(m.descends(dotted("a", 1)))
        #expect(m.descends(dotted("b", 1)))
        #expect(!m.descends(dotted("a", 2, past: ["a": 1])))
        #expect(dotted("c", 1, past: ["a": 1, "b": 1]).descends(m))
        #expect(dotted("a", 2, past: ["a": 1, "b": 1]).descends(m))
        #expect(!dotted("a", 2, past: ["a": 1]).descends(m))
        #expect(merged(["a": 1, "b": 1, "c": 1], value: "n").descends(m))
        #expect(!m.descends(merged(["a": 1, "b": 1, "c": 1], value: "n")))
        #expect(!m.descends(merged(["a": 1, "c": 1], value: "n")))
    }

    /// A write whose context skipped an earlier write of its own actor does not descend a merge containing it.
    @Test func gapDoesNotDescendMerge() {
        // m merged a@2 (context a:1) with b@1 (context a:1); g was written through `a` by a
        // client that had seen a@1 and b@1 but not a@2, so `a` gave it counter 3.
        let m = merged(["a": 2, "b": 1], value: "m")
        let g = dotted("a", 3, past: ["a": 1, "b": 1])
        #expect(!g.descends(m))
        #expect(!m.descends(g))
        #expect(dotted("a", 3, past: ["a": 2, "b": 1]).descends(m))
    }

    /// The history is the context plus the single event of the dot; a merged
    /// version's history is its context.
    @Test func history() {
        #expect(
            dotted("a", 3, past: ["a": 1, "b": 2]).history
                == VersionVector(["a": 1, "b": 2], dots: [Dot(actor: "a", counter: 3)]))
        #expect(dotted("a", 2, past: ["a": 1, "b": 2]).history == VersionVector(["a": 2, "b": 2]))
        #expect(dotted("b", 1, past: ["a": 4]).history == VersionVector(["a": 4, "b": 1]))
        #expect(merged(["a": 1, "b": 1], value: "m").history == VersionVector(["a": 1, "b": 1]))
    }

    /// Same dot or same merged history means the same version; nothing else does.
    @Test func isSameVersion() {
        #expect(dotted("a", 1, value: "x").isSameVersion(as: dotted("a", 1, value: "y")))
        #expect(!dotted("a", 1).isSameVersion(as: dotted("a", 2)))
        #expect(merged(["a": 1], value: "x").isSameVersion(as: merged(["a": 1], value: "y")))
        #expect(!merged(["a": 1], value: "x").isSameVersion(as: merged(["a": 2], value: "x")))
        #expect(!merged(["a": 1], value: "x").isSameVersion(as: dotted("a", 1, value: "x")))
    }
}

struct SiblingSetTests {
    /// A descendant replaces its ancestor, whichever arrives first.
    @Test func descendantReplacesAncestor() {
        let old = dotted("a", 1)
        let new = dotted("b", 1, past: ["a": 1])
        #expect(SiblingSet([old, new]).versions == [new])
        #expect(SiblingSet([new, old]).versions == [new])
        var set = SiblingSet([new])
        set.add([old], policy: .keepAll)
        #expect(set.versions == [new])
    }

    /// Concurrent versions are all kept.
    @Test func concurrentVersionsKept() {
        let set = SiblingSet([dotted("a", 1), dotted("b", 1)])
        #expect(Set(set.values) == ["a@1", "b@1"])
    }

    /// Two writes with the same context through the same actor both survive (no lost update).
    @Test func sameContextWritesBothSurvive() {
        let base = dotted("a", 1)
        let x = dotted("a", 2, past: ["a": 1])
        let y = dotted("a", 3, past: ["a": 1])
        for order in permutations([base, x, y]) {
            var set = SiblingSet()
            for version in order { set.add([version], policy: .keepAll) }
            #expect(set.versions.count == 2)
            #expect(Set(set.values) == ["a@2", "a@3"])
        }
    }

    /// A set decoded from JSON that lists a dominated version, out of order,
    /// comes out canonical, so merging into it behaves as merging into the
    /// set `init` builds.
    @Test func decodingCanonicalises() throws {
        let old = dotted("a", 1)
        let new = dotted("b", 1, past: ["a": 1])
        let other = dotted("c", 1)
        let listed = #"{"versions":["# + [other, old, new].map(Self.json).joined(separator: ",") + "]}"
        let decoded = try JSONDecoder().decode(SiblingSet.self, from: Data(listed.utf8))
        #expect(decoded == SiblingSet([new, other]))
        var merged = decoded
        merged.merge(SiblingSet([new, other]), policy: .keepAll)
        #expect(merged == SiblingSet([new, other]))
    }

    private static func json(_ version: Version) -> String {
        String(decoding: try! JSONEncoder().encode(version), as: UTF8.self)
    }

    /// The set and its metadata order do not depend on the order versions arrive in.
    @Test func canonicalOrder() {
        let versions = [
            dotted("node02.1", 1),
            dotted("node01.1", 1),
            dotted("node01.1", 2, past: ["node01.1": 1]),
            dotted("node01.1", 3, past: ["node01.1": 1]),
            dotted("node03.1", 1, past: ["node02.1": 1]),
        ]
        let reference = SiblingSet(versions)
        #expect(reference.values == ["node01.1@2", "node01.1@3", "node03.1@1"])
        #expect(reference.metadata == reference.metadata.sorted(by: byteOrder))
        for order in permutations(versions) {
            let batch = SiblingSet(order)
            var oneByOne = SiblingSet()
            for version in order { oneByOne.add([version], policy: .keepAll) }
            #expect(batch == reference)
            #expect(oneByOne == reference)
            #expect(oneByOne.metadata == reference.metadata)
        }
    }

    /// The context covers the history of every sibling and nothing more; `maxCounter` reads it.
    @Test func contextCoversAll() {
        let set = SiblingSet([dotted("a", 2, past: ["a": 1, "b": 1]), dotted("b", 3, past: ["c": 4])])
        #expect(set.context == VersionVector(["a": 2, "b": 1, "c": 4], dots: [Dot(actor: "b", counter: 3)]))
        for version in set.versions {
            #expect(set.context.dominatesOrEquals(version.history))
        }
        #expect(set.maxCounter(of: "a") == 2)
        #expect(set.maxCounter(of: "c") == 4)
        #expect(set.maxCounter(of: "d") == 0)
        #expect(SiblingSet().context.isEmpty)
    }

    /// A write whose context is the set's context supersedes every sibling.
    @Test func writeWithContextSupersedesAll() {
        var set = SiblingSet([dotted("a", 1), dotted("b", 1), dotted("a", 2, past: ["b": 1])])
        let write = dotted("c", 1, past: set.context.counters)
        set.add([write], policy: .keepAll)
        #expect(set.versions == [write])
    }

    /// `contains` holds when every version of the other set is here or descended from here.
    @Test func contains() {
        let a1 = dotted("a", 1)
        let b1 = dotted("b", 1)
        let a2 = dotted("a", 2, past: ["a": 1])
        let both = SiblingSet([a1, b1])
        #expect(both.contains(SiblingSet([a1])))
        #expect(both.contains(both))
        #expect(both.contains(SiblingSet()))
        #expect(!SiblingSet([a1]).contains(both))
        #expect(SiblingSet([a2, b1]).contains(both))
        #expect(!both.contains(SiblingSet([a2])))
        #expect(!SiblingSet().contains(both))
    }

    /// Merging sibling sets is commutative and idempotent, under both policies.
    @Test(arguments: [MergePolicy.keepAll, .cart])
    func mergeCommutativeAndIdempotent(policy: MergePolicy) {
        let sets = [
            SiblingSet([dotted("a", 1, value: "x")], policy: policy),
            SiblingSet([dotted("a", 2, past: ["a": 1], value: "y"), dotted("b", 1, value: "z")], policy: policy),
            SiblingSet([dotted("a", 3, past: ["a": 1], value: "w")], policy: policy),
            SiblingSet([dotted("c", 1, past: ["a": 2, "b": 1], value: "v")], policy: policy),
            SiblingSet(),
        ]
        for s in sets {
            #expect(s.merged(with: s, policy: policy) == s)
            for t in sets {
                let st = s.merged(with: t, policy: policy)
                #expect(st == t.merged(with: s, policy: policy))
                #expect(st.merged(with: t, policy: policy) == st)
                #expect(st.contains(s) && st.contains(t))
            }
        }
    }
}
