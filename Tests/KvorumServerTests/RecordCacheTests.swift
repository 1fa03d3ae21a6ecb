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
        cache.set(record("a"), for: "a")
        cache.set(record("b"), for: "b")
        cache.set(record("c"), for: "c")
        #expect(cache.record(for: "a") == record("a"))  // a is now the newest; b the oldest
        cache.set(record("d"), for: "d")
        #expect(cache.count == 3)
        #expect(cache.record(for: "b") == nil)
        cache.set(record("c2"), for: "c")  // an update refreshes c; a is the oldest
        cache.set(record("e"), for: "e")
        #expect(cache.record(for: "a") == nil)
        #expect(cache.record(for: "c") == record("c2"))
        #expect(cache.record(for: "d") == record("d"))
        #expect(cache.record(for: "e") == record("e"))
    }

    @Test func removedSlotsAreReused() {
        var cache = RecordCache(capacity: 2)
        cache.set(record("a"), for: "a")
        cache.set(record("b"), for: "b")
        cache.remove("a")
        cache.remove("missing")
        #expect(cache.count == 1 && cache.record(for: "a") == nil)
        cache.set(record("c"), for: "c")  // takes a's slot: nothing evicted
        #expect(cache.record(for: "b") == record("b"))
        #expect(cache.record(for: "c") == record("c"))
        cache.remove("b")
        cache.remove("c")
        #expect(cache.count == 0)
        cache.set(record("d"), for: "d")
        cache.set(record("e"), for: "e")
        cache.set(record("f"), for: "f")
        #expect(cache.count == 2 && cache.record(for: "d") == nil)
    }

    @Test func keysAreBytes() {
        var cache = RecordCache(capacity: 4)
        cache.set(record("nfc"), for: "caf\u{E9}")
        #expect(cache.record(for: "cafe\u{301}") == nil)
        cache.set(record("nfd"), for: "cafe\u{301}")
        #expect(cache.record(for: "caf\u{E9}") == record("nfc"))
        #expect(cache.record(for: "cafe\u{301}") == record("nfd"))
    }

    @Test func capacityZeroKeepsNothing() {
        var cache = RecordCache(capacity: 0)
        cache.set(record("a"), for: "a")
        #expect(cache.count == 0 && cache.record(for: "a") == nil)
    }
}
