import Testing

@testable import KvorumCore

/// `SiblingSet.add` takes a one-pass path for one new version under
/// `.keepAll`, and `VersionVector` keeps its ranges in a sorted array. These
/// tests hold both to the definitions they replaced: the pairwise check of
/// every version against every other, the sort by metadata text, and a
/// table of counters.
struct SiblingAddReferenceTests {
    /// Random versions (dots and pasts over three actors, with isolated
    /// dots, and some dotless merged versions) added one at a time give the
    /// set the definition gives.
    @Test func oneNewVersionMatchesThePairwiseDefinition() {
        var random = SplitMix64(seed: 15)
        for _ in 0..<2_000 {
            var set = SiblingSet()
            for _ in 0..<Int(random.next() % 7) {
                let version = Self.version(&random)
                let expected = Self.reference(set.versions, adding: version)
                set.add([version], policy: .keepAll)
                #expect(set.versions == expected)
            }
        }
    }

    /// A set made of one version or none is that version as `add` would
    /// place it, and a record's digest from the store's encoding of its
    /// siblings is the digest of the key and the siblings as a message
    /// carries them (what every store and node computed before).
    @Test func oneVersionSetsAndDigestsMatchTheirDefinitions() {
        var random = SplitMix64(seed: 4)
        for round in 0..<1_000 {
            let version = Self.version(&random)
            var added = SiblingSet()
            added.add([version], policy: .keepAll)
            #expect(SiblingSet([version]).versions == added.versions)
            var set = SiblingSet()
            for _ in 0..<Int(random.next() % 4) { set.add([Self.version(&random)], policy: .keepAll) }
            // Every third key is long enough for a two-byte length.
            let key = Key("key-\(round)-ключ" + String(repeating: "k", count: round % 3 == 0 ? 200 : 0))
            var writer = WireCodec.Writer()
            writer.key(key)
            writer.siblings(set)
            let reference = StableHash.mix(
                writer.bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 })
            #expect(TreePlace.digest(key: key, siblings: set) == reference)
            let place = TreePlace(key: key, encodedSiblings: WireCodec.encode(set), partitionCount: 64)
            #expect(place == TreePlace(key: key, siblings: set, partitionCount: 64) && place.digest == reference)
        }
        #expect(SiblingSet([]).versions.isEmpty)
    }

    /// A vector decoded from ranges out of order, repeated or empty reads as
    /// a table filled in order would: the later range of an actor wins and
    /// empty ranges are dropped.
    @Test func rangesInAnyOrderReadAsATable() {
        let ranges = [("b", 2), ("a", 1), ("c", 0), ("b", 5)].map {
            VersionVector.Range(actor: $0.0, counter: UInt64($0.1))
        }
        let vector = VersionVector(ranges: ranges, dots: [Dot(actor: "a", counter: 2)])
        #expect(vector == VersionVector(["a": 2, "b": 5]))
        #expect(vector.actors == ["a", "b"])
        let canonical = VersionVector(ranges: [.init(actor: "a", counter: 1)], dots: [Dot(actor: "a", counter: 3)])
        #expect(canonical.ranges == [.init(actor: "a", counter: 1)])
        #expect(canonical.dots == [Dot(actor: "a", counter: 3)])
    }

    /// Joins and single events agree with a table of counters and a list of
    /// events, normalized the way the vector's documentation says.
    @Test func joinsMatchATableOfCounters() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<2_000 {
            let a = Self.vector(&random)
            let b = Self.vector(&random)
            let joined = a.joined(b)
            for actor in ["n1", "n2", "n3", "n4"] {
                let events = (1...9).filter { counter in
                    a.covers(Dot(actor: actor, counter: UInt64(counter)))
                        || b.covers(Dot(actor: actor, counter: UInt64(counter)))
                }
                for counter in 1...9 {
                    #expect(joined.covers(Dot(actor: actor, counter: UInt64(counter))) == events.contains(counter))
                }
                let contiguous = (1...9).prefix { events.contains($0) }.last ?? 0
                #expect(joined[actor] == UInt64(contiguous))
            }
            #expect(joined.ranges.map(\.actor) == joined.ranges.map(\.actor).sorted(by: byteOrder))
        }
    }

    private static func vector(_ random: inout SplitMix64) -> VersionVector {
        var counters: [String: UInt64] = [:]
        var dots: [Dot] = []
        for actor in ["n1", "n2", "n3", "n4"] where random.next() % 2 == 0 {
            counters[actor] = random.next() % 4
            if random.next() % 3 == 0 { dots.append(Dot(actor: actor, counter: 3 + random.next() % 6)) }
        }
        return VersionVector(counters, dots: dots)
    }

    private static func version(_ random: inout SplitMix64) -> Version {
        let past = vector(&random)
        guard random.next() % 5 != 0 else { return Version(dot: nil, past: past, value: "m\(random.next() % 3)") }
        let actor = ["n1", "n2", "n3"][Int(random.next() % 3)]
        return Version(dot: Dot(actor: actor, counter: 1 + random.next() % 8), past: past, value: "v")
    }

    /// What `add([version], policy: .keepAll)` is defined to give: copies of
    /// one version combined, every version another (not a copy) descends
    /// dropped, the rest in the byte order of their metadata.
    private static func reference(_ versions: [Version], adding version: Version) -> [Version] {
        var all = versions
        if let i = all.firstIndex(where: { $0.isSameVersion(as: version) }) {
            all[i] = MergePolicy.keepAll.combineSameVersion(all[i], version)
        } else {
            all.append(version)
        }
        let survivors = all.filter { candidate in
            !all.contains { !$0.isSameVersion(as: candidate) && $0.descends(candidate) }
        }
        return survivors.sorted { byteOrder($0.metadata, $1.metadata) }
    }
}
