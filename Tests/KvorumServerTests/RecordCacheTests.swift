import KvorumCore
import Testing

@testable import KvorumServer

/// The store's record cache: least recently used out first, byte-wise keys,
/// removal, and a capacity of 0.
struct RecordCacheTests {
    private func record(_ value: String) -> StoredRecord {
        StoredRecord(
            siblings: SiblingSet([Version(dot: Dot(actor: "n1.1", counter: 1), past: VersionVector(), value: value)]))
    }

    @Test func evictsTheLeastRecentlyUsed() {
        var cache = RecordCache(capacity: 3)
        cache.set(record("a"), digest: 0, for: "a")
        cache.set(record("b"), digest: 0, for: "b")
        cache.set(record("c"), digest: 0, for: "c")
        #expect(cache.record(for: "a")?.record == record("a"))  // a is now the newest; b the oldest
        cache.set(record("d"), digest: 0, for: "d")
        #expect(cache.count == 3)
        #expect(cache.record(for: "b") == nil)
        cache.set(record("c2"), digest: 0, for: "c")  // an update refreshes c; a is the oldest
        cache.set(record("e"), digest: 0, for: "e")
        #expect(cache.record(for: "a") == nil)
        #expect(cache.record(for: "c")?.record == record("c2"))
        #expect(cache.record(for: "d")?.record == record("d"))
        #expect(cache.record(for: "e")?.record == record("e"))
    }

    @Test func removedSlotsAreReused() {
        var cache = RecordCache(capacity: 2)
        cache.set(record("a"), digest: 0, for: "a")
        cache.set(record("b"), digest: 0, for: "b")
        cache.remove("a")
        cache.remove("missing")
        #expect(cache.count == 1 && cache.record(for: "a") == nil)
        cache.set(record("c"), digest: 0, for: "c")  // takes a's slot: nothing evicted
        #expect(cache.record(for: "b")?.record == record("b"))
        #expect(cache.record(for: "c")?.record == record("c"))
        cache.remove("b")
        cache.remove("c")
        #expect(cache.count == 0)
        cache.set(record("d"), digest: 0, for: "d")
        cache.set(record("e"), digest: 0, for: "e")
        cache.set(record("f"), digest: 0, for: "f")
        #expect(cache.count == 2 && cache.record(for: "d") == nil)
    }

    @Test func keysAreBytes() {
        var cache = RecordCache(capacity: 4)
        cache.set(record("nfc"), digest: 0, for: "caf\u{E9}")
        #expect(cache.record(for: "cafe\u{301}") == nil)
        cache.set(record("nfd"), digest: 0, for: "cafe\u{301}")
        #expect(cache.record(for: "caf\u{E9}")?.record == record("nfc"))
        #expect(cache.record(for: "cafe\u{301}")?.record == record("nfd"))
    }

    @Test func capacityZeroKeepsNothing() {
        var cache = RecordCache(capacity: 0)
        cache.set(record("a"), digest: 0, for: "a")
        #expect(cache.count == 0 && cache.record(for: "a") == nil)
    }
}
