import KvorumCore

/// The most recently used records of a store, decoded, with their
/// anti-entropy digests, up to a fixed count: a hit costs a dictionary lookup
/// instead of an SQLite search and a decode.
/// Least recently used entries are evicted first. Keys are `Key`s, compared
/// as UTF-8 bytes, as the store compares them. Confined to one thread, like
/// the store that owns it.
struct RecordCache {
    /// One entry, linked into the recency list by slot numbers.
    private struct Entry {
        var key: Key
        var record: StoredRecord
        var digest: UInt64
        var newer: Int?
        var older: Int?
    }

    /// Most entries kept; 0 turns the cache off.
    let capacity: Int
    private var slots: [Key: Int] = [:]
    private var entries: [Entry] = []
    private var newest: Int?
    private var oldest: Int?
    /// Slots of removed entries, reused before the oldest entry is evicted.
    private var free: [Int] = []

    init(capacity: Int) {
        precondition(capacity >= 0, "a cache capacity cannot be negative")
        self.capacity = capacity
    }

    var count: Int { slots.count }

    /// The cached record of `key` and its digest; it becomes the most
    /// recently used.
    mutating func record(for key: Key) -> (record: StoredRecord, digest: UInt64)? {
        guard let slot = slots[key] else { return nil }
        unlink(slot)
        pushNewest(slot)
        return (entries[slot].record, entries[slot].digest)
    }

    /// Caches `record` with its digest as the most recently used, evicting
    /// the least recently used entry when full.
    mutating func set(_ record: StoredRecord, digest: UInt64, for key: Key) {
        guard capacity > 0 else { return }
        if let slot = slots[key] {
            entries[slot].record = record
            entries[slot].digest = digest
            unlink(slot)
            pushNewest(slot)
            return
        }
        let slot: Int
        if let reused = free.popLast() {
            slot = reused
            entries[slot] = Entry(key: key, record: record, digest: digest)
        } else if entries.count < capacity {
            slot = entries.count
            entries.append(Entry(key: key, record: record, digest: digest))
        } else {
            slot = oldest!
            unlink(slot)
            slots[entries[slot].key] = nil
            entries[slot] = Entry(key: key, record: record, digest: digest)
        }
        slots[key] = slot
        pushNewest(slot)
    }

    /// Forgets `key`; its slot is reused by the next new entry.
    mutating func remove(_ key: Key) {
        guard let slot = slots.removeValue(forKey: key) else { return }
        unlink(slot)
        entries[slot].record = StoredRecord(siblings: SiblingSet())
        free.append(slot)
    }

    private mutating func unlink(_ slot: Int) {
        let (newer, older) = (entries[slot].newer, entries[slot].older)
        if let newer { entries[newer].older = older } else { newest = older }
        if let older { entries[older].newer = newer } else { oldest = newer }
        entries[slot].newer = nil
        entries[slot].older = nil
    }

    private mutating func pushNewest(_ slot: Int) {
        entries[slot].older = newest
        if let newest { entries[newest].newer = slot }
        newest = slot
        if oldest == nil { oldest = slot }
    }
}
