/// The hints this node keeps (Dynamo §4.6): for each target node, the keys
/// whose copy it must deliver there, and the handoff batches on their way.
///
/// It is the only writer of stored hints: every change goes to memory and to
/// `storage` together, so a restarted node resumes the same handoffs. A hint
/// carries a sequence number that grows whenever it is renewed, so the
/// acknowledgement of a batch sent before the renewal does not clear it.
struct HintQueue: Hashable {
    /// One hinted key in a batch, with the sequence it had when sent.
    struct Entry: Hashable {
        var key: Key
        var sequence: UInt64
    }

    /// A handoff batch: the target and the hints its records settle.
    struct Batch: Hashable {
        var target: String
        var entries: [Entry]
    }

    /// Target → key → sequence.
    private var pending: [String: [Key: UInt64]] = [:]
    private var sequence: UInt64 = 0
    /// Batches awaiting acknowledgement, by batch id.
    private var inFlight: [UInt64: Batch] = [:]
    /// Target → its pending keys in byte order as a pass over them began, and
    /// how far the pass has come. Batches walk the pass instead of sorting
    /// every pending key again for each batch, which cost a quadratic sort
    /// once tens of thousands of hints piled up; keys hinted during a pass go
    /// out in the next one.
    private var passes: [String: Pass] = [:]

    private struct Pass: Hashable {
        var keys: [Key]
        var next = 0
    }

    /// The queue as `storage` left it.
    init(restoring hints: [Hint]) {
        for hint in hints {
            pending[hint.target, default: [:]][hint.key] = hint.sequence
            sequence = max(sequence, hint.sequence)
        }
    }

    var isEmpty: Bool { pending.isEmpty }

    /// How many hints are pending.
    var count: Int { pending.values.reduce(0) { $0 + $1.count } }

    /// How many hints are pending for `target`.
    func count(for target: String) -> Int { pending[target]?.count ?? 0 }

    /// Whether a batch for `target` awaits its acknowledgement.
    func hasBatchInFlight(for target: String) -> Bool { inFlight.values.contains { $0.target == target } }

    /// The nodes hints are pending for, in byte order.
    var targets: [String] { pending.keys.sorted(by: byteOrder) }

    /// The keys pending for `target`, in byte order.
    func keys(for target: String) -> [Key] { (pending[target] ?? [:]).keys.sorted() }

    /// Whether any target is owed `key`.
    func holds(_ key: Key) -> Bool { pending.values.contains { $0[key] != nil } }

    /// Every hint, ordered as `Storage.hints()` orders them.
    var hints: [Hint] {
        targets.flatMap { target in
            keys(for: target).map { Hint(target: target, key: $0, sequence: pending[target]![$0]!) }
        }
    }

    /// Every batch in flight, by id.
    var batchesInFlight: [(id: UInt64, batch: Batch)] {
        inFlight.keys.sorted().map { ($0, inFlight[$0]!) }
    }

    /// Adds or renews the hint that `target` must receive `key`.
    /// - Returns: false, changing nothing, when the hint is new and `limit`
    ///   hints are pending already.
    mutating func add(target: String, key: Key, limit: Int, storage: any Storage) -> Bool {
        if pending[target]?[key] == nil && count >= limit { return false }
        sequence += 1
        pending[target, default: [:]][key] = sequence
        storage.setHint(Hint(target: target, key: key, sequence: sequence))
        return true
    }

    mutating func remove(target: String, key: Key, storage: any Storage) {
        guard pending[target]?[key] != nil else { return }
        pending[target]![key] = nil
        if pending[target]!.isEmpty {
            pending[target] = nil
            passes[target] = nil
        }
        storage.removeHint(target: target, key: key)
    }

    /// The next batch for `target`: up to `limit` of its keys, the next ones
    /// of the current pass over its pending keys in byte order (a new pass
    /// starts when one ends), with the records `storage` holds for them.
    /// Hints for keys with no record left are dropped on the way; a batch for
    /// `target` still in flight is forgotten (its late acknowledgement will be
    /// ignored, and its keys, still pending, go out in the next pass).
    /// - Returns: the batch and its records, or nil when nothing is left to send.
    mutating func collectBatch(
        for target: String, limit: Int, storage: any Storage
    ) -> (batch: Batch, records: [KeyedSiblings])? {
        for (id, batch) in inFlight where batch.target == target { inFlight[id] = nil }
        var batch = Batch(target: target, entries: [])
        var records: [KeyedSiblings] = []
        var pass = passes.removeValue(forKey: target) ?? Pass(keys: [])
        var startedPass = false
        // The target's hints are looked up, never held, while hints are
        // removed: a second reference would make each removal copy them all.
        while records.count < limit, pending[target] != nil {
            if pass.next == pass.keys.count {
                // A batch ends with its pass (a new pass may hold its keys
                // again), and begins one only when empty, once.
                guard records.isEmpty, !startedPass else { break }
                startedPass = true
                pass = Pass(keys: pending[target]!.keys.sorted())
            }
            let key = pass.keys[pass.next]
            pass.next += 1
            guard let sequence = pending[target]?[key] else { continue }
            guard let record = storage.record(for: key), !record.siblings.isEmpty else {
                remove(target: target, key: key, storage: storage)
                continue
            }
            records.append(KeyedSiblings(key: key, siblings: record.siblings))
            batch.entries.append(Entry(key: key, sequence: sequence))
        }
        if pending[target] != nil { passes[target] = pass }
        return records.isEmpty ? nil : (batch, records)
    }

    /// Notes that `batch` went out under `id`.
    mutating func dispatched(_ batch: Batch, id: UInt64) {
        inFlight[id] = batch
    }

    /// The target acknowledged batch `id`: the hints it settled are done,
    /// unless they were renewed since.
    /// - Returns: the target and the keys whose hints were cleared, or nil
    ///   for a batch not in flight.
    mutating func acknowledge(_ id: UInt64, storage: any Storage) -> (target: String, cleared: [Key])? {
        guard let batch = inFlight.removeValue(forKey: id) else { return nil }
        var cleared: [Key] = []
        for entry in batch.entries where pending[batch.target]?[entry.key] == entry.sequence {
            remove(target: batch.target, key: entry.key, storage: storage)
            cleared.append(entry.key)
        }
        return (batch.target, cleared)
    }

    /// Whether hints are pending for `target`.
    func hasPending(for target: String) -> Bool { pending[target] != nil }
}
