import Foundation
import Testing

@testable import KvorumCore

/// A write of `value` as `actor`'s `counter`-th write, by a client whose
/// context was `context`, coordinated by a replica holding `local`: the
/// version `coordinateWrite` builds for an `xcart` key.
private func xwrite(
    _ actor: String, _ counter: UInt64, _ value: String, context: VersionVector = VersionVector(),
    local: [Version] = []
) -> Version {
    MergePolicy.xcart.newVersion(
        dot: Dot(actor: actor, counter: counter), context: context, payload: .value(Value(text: value)),
        local: SiblingSet(local, policy: .xcart))
}

/// The tag `item@actor:counter`.
private func tag(_ item: String, _ actor: String, _ counter: UInt64) -> ItemTag {
    ItemTag(item: item, dot: Dot(actor: actor, counter: counter))
}

/// The one version `versions` resolve to under the `xcart` policy, in the given order.
private func resolved(_ versions: [Version]) -> [Version] {
    SiblingSet(versions, policy: .xcart).versions
}

/// The observed-remove cart: which keys use it, how writes tag items, and the merge rule.
@Suite("XCart merge")
struct XCartMergeTests {
    // The seed's cart history: `cheese,wine`; side 1 adds milk, then eggs;
    // side 2 overwrites with `snacks,beer` (removing cheese and wine).
    static let start = xwrite("n1", 1, "cheese,wine")
    static let milk = xwrite("n1", 2, "cheese,wine,milk", context: start.history, local: [start])
    static let eggs = xwrite("n1", 3, "cheese,wine,milk,eggs", context: milk.history, local: [milk])
    static let snacks = xwrite("n2", 1, "snacks,beer", context: start.history, local: [start])

    /// Keys starting with `xcart` use the OR-set cart; `cart` keys keep the union cart; the prefixes do not overlap.
    @Test func policyForKey() {
        #expect(MergePolicy.forKey("xcart") == .xcart)
        #expect(MergePolicy.forKey("xcart-shopping") == .xcart)
        #expect(MergePolicy.forKey("xcartography") == .xcart)
        #expect(MergePolicy.forKey("cart-shopping") == .cart)
        #expect(MergePolicy.forKey("cartxcart") == .cart)
        #expect(MergePolicy.forKey("Xcart-1") == .keepAll)
        #expect(MergePolicy.forKey("xcar") == .keepAll)
        #expect(MergePolicy.forKey("my-xcart") == .keepAll)
    }

    /// Only `xcart` writes carry a tag table; other keys' versions are built exactly as before.
    @Test func onlyXCartVersionsCarryTags() {
        let dot = Dot(actor: "n1", counter: 1)
        for policy in [MergePolicy.keepAll, .cart] {
            let version = policy.newVersion(
                dot: dot, context: nil, payload: .value(Value(text: "a,b")), local: SiblingSet())
            #expect(version == Version(dot: dot, past: VersionVector(), value: "a,b"))
            #expect(version.tags == nil)
        }
        #expect(Self.start.tags == [tag("cheese", "n1", 1), tag("wine", "n1", 1)])
    }

    /// A write keeps the tags of the items the client kept and gives new items its own dot.
    @Test func writeKeepsTagsOfKeptItems() {
        #expect(Self.milk.tags == [tag("cheese", "n1", 1), tag("milk", "n1", 2), tag("wine", "n1", 1)])
        #expect(Self.snacks.tags == [tag("beer", "n2", 1), tag("snacks", "n2", 1)])
        // Value is verbatim; duplicates and spaces in it do not duplicate tags.
        let messy = xwrite("n1", 2, " wine, cheese,,wine", context: Self.start.history, local: [Self.start])
        #expect(messy.value == " wine, cheese,,wine")
        #expect(messy.tags == [tag("cheese", "n1", 1), tag("wine", "n1", 1)])
    }

    /// An item re-added after the client saw it removed gets a fresh tag, so no older removal can take it away.
    @Test func reAddGetsFreshTag() {
        let removed = xwrite("n1", 2, "wine", context: Self.start.history, local: [Self.start])
        let readded = xwrite("n1", 3, "cheese,wine", context: removed.history, local: [removed])
        #expect(readded.tags == [tag("cheese", "n1", 3), tag("wine", "n1", 1)])
    }

    /// A coordinator that has not seen all the client saw cannot tell a kept item from a re-added one: every
    /// item gets the new dot (an add is never lost).
    @Test func staleCoordinatorTagsEverythingFresh() {
        let removed = xwrite("n1", 2, "wine", context: Self.start.history, local: [Self.start])
        let write = xwrite("n2", 1, "cheese,wine", context: removed.history, local: [Self.start])
        #expect(write.tags == [tag("cheese", "n2", 1), tag("wine", "n2", 1)])
        #expect(xwrite("n2", 1, "x", context: Self.start.history).tags == [tag("x", "n2", 1)])
    }

    /// A coordinator holding a concurrent write the client did not see keeps the tags the client did see, so the
    /// client's write does not re-add what others remove concurrently.
    @Test func concurrentLocalWriteKeepsSeenTags() {
        let other = xwrite("n1", 2, "cheese,wine,tea", context: Self.start.history, local: [Self.start])
        let write = xwrite("n1", 3, "cheese,wine,tea", context: Self.start.history, local: [other])
        #expect(write.tags == [tag("cheese", "n1", 1), tag("tea", "n1", 3), tag("wine", "n1", 1)])
    }

    /// An item one side removed stays removed when the sides merge, in every arrival order.
    @Test func removalStaysRemoved() {
        let expected = Version(
            dot: nil, past: VersionVector(["n1": 3, "n2": 1]), value: "beer,eggs,milk,snacks",
            tags: [tag("beer", "n2", 1), tag("eggs", "n1", 3), tag("milk", "n1", 2), tag("snacks", "n2", 1)],
            removed: [
                RemovedTag(tag: tag("cheese", "n1", 1), remover: Dot(actor: "n2", counter: 1)),
                RemovedTag(tag: tag("wine", "n1", 1), remover: Dot(actor: "n2", counter: 1)),
            ])
        for order in permutations([Self.start, Self.milk, Self.eggs, Self.snacks]) {
            var oneByOne = SiblingSet()
            for version in order { oneByOne.add([version], policy: .xcart) }
            #expect(oneByOne.versions == [expected])
            #expect(resolved(order) == [expected])
        }
        #expect(expected.metadata == "|n1:3,n2:1")
    }

    /// Items both sides add concurrently are all kept, including the same item added on both sides.
    @Test func concurrentAddsKept() {
        let a = xwrite("n1", 2, "cheese,wine,milk,jam", context: Self.start.history, local: [Self.start])
        let b = xwrite("n2", 1, "cheese,wine,jam,tea", context: Self.start.history, local: [Self.start])
        let merge = resolved([a, b])
        #expect(merge.map(\.value) == ["cheese,jam,milk,tea,wine"])
        #expect(merge.first?.dot == nil)
        #expect(
            merge.first?.tags == [
                tag("cheese", "n1", 1), tag("jam", "n1", 2), tag("jam", "n2", 1), tag("milk", "n1", 2),
                tag("tea", "n2", 1), tag("wine", "n1", 1),
            ])
    }

    /// An add concurrent with a removal of the same item wins: the remover never saw that add.
    @Test func addWinsOverConcurrentRemove() {
        let bread = xwrite("n1", 1, "bread")
        let addA = xwrite("n1", 2, "bread,jam", context: bread.history, local: [bread])
        let addB = xwrite("n2", 1, "bread,jam", context: bread.history, local: [bread])
        let removeB = xwrite("n2", 2, "bread", context: addB.history, local: [addB])
        for order in permutations([bread, addA, addB, removeB]) {
            let merge = resolved(order)
            #expect(merge.map(\.value) == ["bread,jam"])
            #expect(merge.first?.tags == [tag("bread", "n1", 1), tag("jam", "n1", 2)])
        }
        // Removing an item while the other side removes it and adds it back: the re-add wins too.
        let removeA = xwrite("n1", 2, "bread", context: addB.history, local: [addB])
        let readdA = xwrite("n1", 3, "bread,jam", context: removeA.history, local: [removeA])
        #expect(resolved([readdA, removeB]).map(\.value) == ["bread,jam"])
        #expect(resolved([removeA, removeB]).map(\.value) == ["bread"])
    }

    /// A single version is returned verbatim, and a merge with nothing left is an empty cart.
    @Test func singleVersionVerbatimAndEmptyMerge() {
        let version = xwrite("a", 1, "wine, cheese,,wine")
        #expect(resolved([version]) == [version])
        let x = xwrite("n1", 2, "", context: Self.start.history, local: [Self.start])
        let y = xwrite("n2", 1, "", context: Self.start.history, local: [Self.start])
        #expect(resolved([x, y]).map(\.value) == [""])
        #expect(resolved([x, y]).first?.tags == [])
    }

    /// Items that differ only in Unicode normalisation are two items, merged to the same bytes in any order.
    @Test func itemsCompareByBytes() {
        let x = xwrite("a", 1, "caf\u{E9},tea")
        let y = xwrite("b", 1, "cafe\u{301}")
        let forward = resolved([x, y])
        let backward = resolved([y, x])
        #expect(forward.map { Array($0.value.utf8) } == backward.map { Array($0.value.utf8) })
        #expect(forward.first?.tags?.count == 3)
        #expect(forward == backward)
    }

    /// The merge is a join: commutative, associative and idempotent over sibling sets, for every ordering.
    @Test func mergeIsAJoin() {
        let jam = xwrite("n3", 1, "cheese,jam", context: Self.start.history, local: [Self.start])
        let noJam = xwrite("n3", 2, "cheese", context: jam.history, local: [jam])
        let wineAgain = xwrite("n2", 2, "snacks,beer,wine", context: Self.snacks.history, local: [Self.snacks])
        let pool = [Self.start, Self.milk, Self.eggs, Self.snacks, jam, noJam, wineAgain]
        var sets = pool.map { SiblingSet([$0], policy: .xcart) }
        sets += [
            SiblingSet([Self.milk, Self.snacks], policy: .xcart), SiblingSet([jam, wineAgain], policy: .xcart),
            SiblingSet([Self.eggs, noJam], policy: .xcart),
        ]
        func join(_ a: SiblingSet, _ b: SiblingSet) -> SiblingSet { a.merged(with: b, policy: .xcart) }
        for a in sets {
            #expect(join(a, a) == a)
            for b in sets {
                #expect(join(a, b) == join(b, a))
                for c in sets {
                    #expect(join(join(a, b), c) == join(a, join(b, c)))
                }
            }
        }
        let all = SiblingSet(pool, policy: .xcart)
        for order in permutations(Array(pool.prefix(6))) {
            #expect(SiblingSet(order + [wineAgain], policy: .xcart) == all)
        }
        #expect(all.versions.count == 1)
        #expect(all.values == ["beer,eggs,milk,snacks,wine"])
    }

    /// Two merged versions of the same history with different tag tables meet with the OR-set join, in either order.
    @Test func sameHistoryMergesConverge() {
        let past = VersionVector(["n1": 3, "n2": 1])
        let a = Version(dot: nil, past: past, value: "beer,milk", tags: [tag("beer", "n2", 1), tag("milk", "n1", 2)])
        let b = Version(dot: nil, past: past, value: "beer,eggs", tags: [tag("beer", "n2", 1), tag("eggs", "n1", 3)])
        let ab = resolved([a, b])
        #expect(ab == resolved([b, a]))
        #expect(ab == [Version(dot: nil, past: past, value: "beer", tags: [tag("beer", "n2", 1)])])
        #expect(MergePolicy.xcart.combineSameVersion(a, a) == a)
    }

    /// Versions written without a tag table (before the key's versions carried tags) count each item as added by
    /// the version's own write.
    @Test func untaggedVersionsTagItemsWithTheirDot() {
        let old = Version(dot: Dot(actor: "n1", counter: 1), past: VersionVector(), value: "cheese,wine")
        let write = xwrite("n1", 2, "wine,milk", context: old.history, local: [old])
        #expect(write.tags == [tag("milk", "n1", 2), tag("wine", "n1", 1)])
        let other = xwrite("n2", 1, "cheese,wine,tea", context: old.history, local: [old])
        #expect(resolved([old, write, other]).map(\.value) == ["milk,tea,wine"])
    }
}

/// How `xcart` tags travel: the peer codec, JSON storage and the metadata string.
@Suite("XCart codec")
struct XCartCodecTests {
    static let tagged = SiblingSet([
        Version(
            dot: Dot(actor: "node02.3", counter: 7), past: VersionVector(["node01.1": 2]), value: "b,ключ,a",
            tags: [tag("ключ", "node02.3", 7), tag("a", "node01.1", 1), tag("b", "node01.1", 2)]),
        Version(
            dot: nil, past: VersionVector(["node01.1": 2], dots: [Dot(actor: "n#3", counter: 9)]), value: "",
            tags: [], removed: [RemovedTag(tag: tag("ключ", "node01.1", 1), remover: Dot(actor: "n#3", counter: 9))]),
    ])

    /// Tag tables are kept in canonical order however they are given.
    @Test func tagsAreCanonical() {
        let version = Version(
            dot: nil, past: VersionVector(), value: "",
            tags: [tag("b", "z", 1), tag("a", "y", 2), tag("b", "a", 3), tag("a", "y", 2), tag("a", "y", 1)])
        #expect(version.tags == [tag("a", "y", 1), tag("a", "y", 2), tag("b", "a", 3), tag("b", "z", 1)])
    }

    /// Tagged versions and their removals survive a peer-message round trip.
    @Test func wireRoundTrip() throws {
        for body in [
            PeerBody.write(op: 1, key: "xcart-1", siblings: Self.tagged, hintFor: nil),
            .readReply(op: 2, siblings: Self.tagged),
            .handoff(batch: 3, records: [KeyedSiblings(key: "xcart-2", siblings: Self.tagged)]),
        ] {
            let message = PeerMessage(from: "node01", viewDigest: 42, body: body)
            #expect(try WireCodec.decode(WireCodec.encode(message)) == message)
        }
    }

    /// Versions without tags encode byte for byte as before tags existed; tags set bit 2 of the flags byte and
    /// follow the value.
    @Test func wireBytes() {
        func bytes(_ versions: [Version]) -> [UInt8] {
            var writer = WireCodec.Writer()
            writer.siblings(SiblingSet(versions))
            return writer.bytes
        }
        let dotted = Version(dot: Dot(actor: "a", counter: 1), past: VersionVector(["b": 2]), value: "v")
        let merged = Version(dot: nil, past: VersionVector(["b": 2]), value: "v")
        // count, flags, dot "a":1, past (1 range "b":2, 0 dots), value "v"
        #expect(bytes([dotted]) == [1, 1, 1, 97, 1, 1, 1, 98, 2, 0, 1, 118])
        #expect(bytes([merged]) == [1, 0, 1, 1, 98, 2, 0, 1, 118])
        var taggedDotted = dotted
        taggedDotted.tags = [tag("v", "a", 1)]
        #expect(bytes([taggedDotted]) == [1, 3, 1, 97, 1, 1, 1, 98, 2, 0, 1, 118, 1, 1, 118, 1, 97, 1])
        var emptyMerged = merged
        emptyMerged.tags = []
        #expect(bytes([emptyMerged]) == [1, 2, 1, 1, 98, 2, 0, 1, 118, 0])
        // Removals set bit 4 and follow the tags: item, dot, remover.
        let removal = RemovedTag(tag: tag("w", "a", 1), remover: Dot(actor: "b", counter: 2))
        let removing = Version(dot: nil, past: VersionVector(["b": 2]), value: "v", tags: [], removed: [removal])
        #expect(bytes([removing]) == [1, 6, 1, 1, 98, 2, 0, 1, 118, 0, 1, 1, 119, 1, 97, 1, 1, 98, 2])
    }

    /// A flags byte with unknown bits, and a truncated tag table or removal list, are refused.
    @Test func badTagEncodingsAreRefused() {
        let message = PeerMessage(from: "n", viewDigest: 1, body: .readReply(op: 2, siblings: Self.tagged))
        let bytes = WireCodec.encode(message)
        for length in 0..<bytes.count {
            #expect(throws: WireCodec.DecodeError.self) { try WireCodec.decode(bytes.prefix(length)) }
        }
        var writer = WireCodec.Writer()
        writer.siblings(SiblingSet([Version(dot: nil, past: VersionVector(), value: "")]))
        // 32 is no flag; 8 | 16 would be a tombstone with a content type.
        for flags: UInt8 in [32, 24] {
            var reader = WireCodec.Reader(writer.bytes.enumerated().map { $0.offset == 1 ? flags : $0.element })
            #expect(throws: WireCodec.DecodeError.self) { try reader.siblings() }
        }
    }

    /// JSON (storage and the stdio bridge) round-trips tags and removals, sorts tags on decoding, and leaves other
    /// versions without `tags` and `removed` fields.
    @Test func jsonRoundTrip() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let decoded = try JSONDecoder().decode(SiblingSet.self, from: try encoder.encode(Self.tagged))
        #expect(decoded == Self.tagged)
        let plain = Version(dot: Dot(actor: "a", counter: 1), past: VersionVector(), value: "v")
        let text = String(decoding: try encoder.encode(plain), as: UTF8.self)
        #expect(text == #"{"dot":{"actor":"a","counter":1},"past":{"counters":[]},"value":"v"}"#)
        #expect(try JSONDecoder().decode(Version.self, from: Data(text.utf8)) == plain)
        let unsorted =
            #"{"past":{"counters":[]},"value":"b,a","tags":[{"item":"b","dot":{"actor":"x","counter":1}},"#
            + #"{"item":"a","dot":{"actor":"x","counter":1}}]}"#
        let version = try JSONDecoder().decode(Version.self, from: Data(unsorted.utf8))
        #expect(version.tags == [tag("a", "x", 1), tag("b", "x", 1)])
        #expect(version.dot == nil)
    }

    /// Tags are not part of the metadata string: a tagged version has the metadata of the same version untagged.
    @Test func metadataIgnoresTags() {
        for version in Self.tagged.versions {
            var untagged = version
            untagged.tags = nil
            #expect(version.metadata == untagged.metadata)
            #expect(!version.metadata.contains("ключ"))
        }
        #expect(XCartMergeTests.milk.metadata == "n1:2|n1:1")
    }
}
