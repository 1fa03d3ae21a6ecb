/// The tombstones a node holds and the reaping checks it leads (see
/// `KvorumNode.onReapTimer` and docs/architecture.md, "Deletes").
///
/// Only `deleted` is rebuilt from storage at start; when a key's checks first
/// came out clean is volatile, so a restarted node waits the grace period
/// again (later, never sooner).
struct Reaper: Hashable, Sendable {
    /// One check: the keys asked about, the leader's own digest of each when
    /// it asked, the members still to answer and what each answered.
    struct Round: Hashable, Sendable {
        let id: UInt64
        let keys: [Key]
        let digests: [Key: UInt64]
        var awaiting: Set<String>
        var held: [String: [Key: UInt64]] = [:]

        /// Whether every member has answered.
        var isComplete: Bool { awaiting.isEmpty }

        /// Whether `key` is clean in this round: every member answered; each
        /// holds nothing of it or the leader's very tombstones; and each of
        /// `replicas` (the leader included) holds them.
        func isClean(_ key: Key, replicas: [String], leader: String) -> Bool {
            guard isComplete, let digest = digests[key], replicas.contains(leader) else { return false }
            for answer in held.values where answer[key].map({ $0 != digest }) ?? false { return false }
            return replicas.allSatisfy { $0 == leader || held[$0]?[key] == digest }
        }

        /// The members that answered and lack the leader's very tombstones of
        /// `key`: those holding another copy, and replicas holding none.
        func stale(_ key: Key, replicas: [String]) -> [String] {
            guard let digest = digests[key] else { return [] }
            return held.keys.filter { peer in
                held[peer]![key].map { $0 != digest } ?? replicas.contains(peer)
            }.sorted(by: byteOrder)
        }

        /// The members that hold a copy of `key`, by name.
        func holders(of key: Key) -> [String] {
            held.keys.filter { held[$0]![key] != nil }.sorted(by: byteOrder)
        }
    }

    /// Keys whose stored record holds tombstones only, in byte order.
    private(set) var deleted: [Key] = []
    /// Where the last round's keys ended: the next round starts after it.
    private var cursor: Key?
    /// When each key's first clean check in a row was concluded.
    private var cleanSince: [Key: Double] = [:]
    /// The check waiting for answers.
    private(set) var round: Round?

    /// A reaper holding `deleted` (byte-wise ordered, as the store lists
    /// them), with no check run yet.
    init(deleted: [Key] = []) {
        precondition(zip(deleted, deleted.dropFirst()).allSatisfy { $0 < $1 }, "deleted keys must be ordered")
        self.deleted = deleted
    }

    var isEmpty: Bool { deleted.isEmpty }

    /// Whether the stored record of `key` holds tombstones only.
    func isDeleted(_ key: Key) -> Bool {
        let index = insertionIndex(of: key)
        return index < deleted.count && deleted[index] == key
    }

    /// Notes what the record of `key` now is: deleted (tombstones only), or
    /// anything else (live, or gone), which ends its clean streak.
    mutating func note(_ key: Key, isDeleted: Bool) {
        let index = insertionIndex(of: key)
        let present = self.isDeleted(key)
        if isDeleted && !present { deleted.insert(key, at: index) }
        if !isDeleted {
            if present { deleted.remove(at: index) }
            cleanSince[key] = nil
        }
    }

    /// Up to `limit` deleted keys that `leads` accepts, in byte order from
    /// the one after the cursor, wrapping around once.
    mutating func nextBatch(limit: Int, leads: (Key) -> Bool) -> [Key] {
        let start = cursor.map(insertionIndexAfter) ?? 0
        var batch: [Key] = []
        for offset in 0..<deleted.count where batch.count < limit {
            let key = deleted[(start + offset) % deleted.count]
            if leads(key) { batch.append(key) }
        }
        if let last = batch.last { cursor = last }
        return batch
    }

    mutating func begin(_ round: Round) { self.round = round }

    /// Takes a member's answer to the round in flight.
    /// - Returns: the round, once every member has answered.
    mutating func answer(_ id: UInt64, from peer: String, held: [KeyDigest]) -> Round? {
        guard var current = round, current.id == id, current.awaiting.remove(peer) != nil else { return nil }
        current.held[peer] = Dictionary(held.map { ($0.key, $0.digest) }, uniquingKeysWith: { first, _ in first })
        round = current
        return current.isComplete ? end() : nil
    }

    /// Ends the round in flight, answered or not.
    mutating func end() -> Round? {
        defer { round = nil }
        return round
    }

    /// Records a clean check of `key` at `now`.
    /// - Returns: true when its checks have been clean for `grace` seconds.
    mutating func clean(_ key: Key, at now: Double, grace: Double) -> Bool {
        let since = cleanSince[key] ?? now
        cleanSince[key] = since
        return now - since >= grace
    }

    /// Whether `key` had a clean check less than `grace` seconds ago: checks
    /// in between add nothing (what was in flight then has arrived by the
    /// end of the grace period, or shows in the check after it), so it waits.
    func isWaiting(_ key: Key, at now: Double, grace: Double) -> Bool {
        cleanSince[key].map { now - $0 < grace } ?? false
    }

    /// Records a check of `key` that was not clean: the grace period starts over.
    mutating func unclean(_ key: Key) { cleanSince[key] = nil }

    /// Where `key` is or would go in `deleted`.
    private func insertionIndex(of key: Key) -> Int {
        var low = 0
        var high = deleted.count
        while low < high {
            let mid = (low + high) / 2
            if deleted[mid] < key { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The index of the first deleted key after `key`.
    private func insertionIndexAfter(_ key: Key) -> Int {
        let index = insertionIndex(of: key)
        return index < deleted.count && deleted[index] == key ? index + 1 : index
    }

    /// What breaks the reaper's own rules.
    func violations() -> [String] {
        var broken: [String] = []
        if zip(deleted, deleted.dropFirst()).contains(where: { !($0 < $1) }) {
            broken.append("deleted keys are not in strictly increasing byte order")
        }
        for key in cleanSince.keys where insertionIndexAfter(key) == insertionIndex(of: key) {
            broken.append("key '\(key)' has a clean streak but no tombstone")
        }
        return broken
    }
}
