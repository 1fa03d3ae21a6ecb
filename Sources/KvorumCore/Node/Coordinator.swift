/// The operations this node coordinates and the ids they go by.
///
/// Operation ids start in a fresh range after every restart (the range comes
/// from a durable epoch), so a late reply to an operation of an earlier life
/// never matches a new one. Every id comes from `newID`, so an id names
/// exactly one operation, in the table of its kind. The protocol steps of
/// each operation live in the operation types (`ReadOperation`,
/// `WriteOperation`, `ForwardOperation`, `ListOperation`) and in
/// `KvorumNode`'s coordination handlers.
///
/// One table per kind lets an operation be changed in place (the
/// dictionary's own `_modify`, one lookup, nothing copied), where one table
/// of an enum of every kind had to take the operation out and put it back.
struct Coordinator: Hashable {
    /// Which table an operation id is in.
    enum Kind: Hashable {
        case read
        case write
        case forward
        case list
    }

    /// The live operations, one table per kind.
    private struct Tables: Hashable {
        var reads: [UInt64: ReadOperation] = [:]
        var writes: [UInt64: WriteOperation] = [:]
        var forwards: [UInt64: ForwardOperation] = [:]
        var listings: [UInt64: ListOperation] = [:]
    }

    private var lastID: UInt64
    private var live = Tables()
    /// Forwarded writes coordinated lately, so none runs twice.
    private var executedForwards: ForwardLedger

    /// A coordinator whose first id is `epoch << 32 + 1`.
    init(epoch: UInt64, ledgerCapacity: Int) {
        lastID = epoch << 32
        executedForwards = ForwardLedger(capacity: ledgerCapacity)
    }

    /// A new id, for an operation or a handoff batch.
    mutating func newID() -> UInt64 {
        lastID += 1
        return lastID
    }

    /// How many operations are live.
    var count: Int { live.reads.count + live.writes.count + live.forwards.count + live.listings.count }

    /// Every live operation id, ascending.
    var ids: [UInt64] { (Array(live.reads.keys) + live.writes.keys + live.forwards.keys + live.listings.keys).sorted() }

    func kind(of id: UInt64) -> Kind? {
        if live.reads[id] != nil { return .read }
        if live.writes[id] != nil { return .write }
        if live.forwards[id] != nil { return .forward }
        if live.listings[id] != nil { return .list }
        return nil
    }

    /// Whether a write to `key` is still placing its copies.
    func isWriting(_ key: Key) -> Bool {
        live.writes.values.contains { $0.key == key }
    }

    /// Records that the forwarded write `entry` is coordinated here.
    /// - Returns: false when it already was (the network delivered it twice).
    mutating func admitForward(_ entry: ForwardLedger.Entry) -> Bool {
        executedForwards.record(entry)
    }

    subscript(read id: UInt64) -> ReadOperation? {
        get { live.reads[id] }
        _modify { yield &live.reads[id] }
    }

    subscript(write id: UInt64) -> WriteOperation? {
        get { live.writes[id] }
        _modify { yield &live.writes[id] }
    }

    subscript(forward id: UInt64) -> ForwardOperation? {
        get { live.forwards[id] }
        _modify { yield &live.forwards[id] }
    }

    subscript(list id: UInt64) -> ListOperation? {
        get { live.listings[id] }
        _modify { yield &live.listings[id] }
    }

    /// The operations' own invariants, described where one is broken.
    func violations() -> [String] {
        var broken: [String] = []
        for id in ids {
            if let read = live.reads[id] {
                if read.replies.contains(where: { read.pending.contains($0.peer) }) {
                    broken.append("read \(id) waits for a peer that has replied")
                }
                if read.answered && read.replies.count < read.quorum {
                    broken.append("read \(id) answered with \(read.replies.count) of \(read.quorum) replies")
                }
            } else if let write = live.writes[id] {
                if write.answered && write.stored < write.quorum {
                    broken.append("write \(id) answered with \(write.stored) of \(write.quorum) copies stored")
                }
                if write.isSettled {
                    broken.append("write \(id) has placed every copy but is still live")
                }
            } else if let forward = live.forwards[id] {
                if forward.handedOver && forward.target.isEmpty {
                    broken.append("forward \(id) was handed over to no one")
                }
            } else if let listing = live.listings[id] {
                if listing.pending.isEmpty {
                    broken.append("listing \(id) has every answer but is still live")
                }
                if listing.pending.keys.contains(where: listing.failed.contains) {
                    broken.append("listing \(id) waits for a node it gave up on")
                }
                let asked = listing.pending.values.flatMap { $0 }
                if Set(asked).count != asked.count {
                    broken.append("listing \(id) asked two nodes for one partition")
                }
            }
        }
        return broken
    }
}
