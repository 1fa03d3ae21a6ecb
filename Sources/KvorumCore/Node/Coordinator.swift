/// The operations this node coordinates and the ids they go by.
///
/// Operation ids start in a fresh range after every restart (the range comes
/// from a durable epoch), so a late reply to an operation of an earlier life
/// never matches a new one. Each kind of operation keeps its own table; an id
/// is in at most one of them. The protocol steps of each operation live in
/// the operation types (`ReadOperation`, `WriteOperation`,
/// `ForwardOperation`, `ListOperation`) and in `KvorumNode`'s coordination
/// handlers.
struct Coordinator: Hashable {
    /// Which table an operation id is in.
    enum Kind: Hashable {
        case read
        case write
        case forward
        case list
    }

    private var lastID: UInt64
    private var reads: [UInt64: ReadOperation] = [:]
    private var writes: [UInt64: WriteOperation] = [:]
    private var forwards: [UInt64: ForwardOperation] = [:]
    private var listings: [UInt64: ListOperation] = [:]
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
    var count: Int { reads.count + writes.count + forwards.count + listings.count }

    /// Every live operation id, ascending.
    var ids: [UInt64] {
        (Array(reads.keys) + Array(writes.keys) + Array(forwards.keys) + Array(listings.keys)).sorted()
    }

    func kind(of id: UInt64) -> Kind? {
        if reads[id] != nil { return .read }
        if writes[id] != nil { return .write }
        if forwards[id] != nil { return .forward }
        if listings[id] != nil { return .list }
        return nil
    }

    /// Whether a write to `key` is still placing its copies.
    func isWriting(_ key: Key) -> Bool { writes.values.contains { $0.key == key } }

    /// Records that the forwarded write `entry` is coordinated here.
    /// - Returns: false when it already was (the network delivered it twice).
    mutating func admitForward(_ entry: ForwardLedger.Entry) -> Bool {
        executedForwards.record(entry)
    }

    subscript(read id: UInt64) -> ReadOperation? {
        get { reads[id] }
        set { reads[id] = newValue }
    }

    subscript(write id: UInt64) -> WriteOperation? {
        get { writes[id] }
        set { writes[id] = newValue }
    }

    subscript(forward id: UInt64) -> ForwardOperation? {
        get { forwards[id] }
        set { forwards[id] = newValue }
    }

    subscript(list id: UInt64) -> ListOperation? {
        get { listings[id] }
        set { listings[id] = newValue }
    }

    /// The operations' own invariants, described where one is broken.
    func violations() -> [String] {
        var broken: [String] = []
        for id in reads.keys.sorted() {
            let read = reads[id]!
            if read.replies.contains(where: { read.pending.contains($0.peer) }) {
                broken.append("read \(id) waits for a peer that has replied")
            }
            if read.answered && read.replies.count < read.quorum {
                broken.append("read \(id) answered with \(read.replies.count) of \(read.quorum) replies")
            }
        }
        for id in writes.keys.sorted() {
            let write = writes[id]!
            if write.answered && write.stored < write.quorum {
                broken.append("write \(id) answered with \(write.stored) of \(write.quorum) copies stored")
            }
            if write.isSettled {
                broken.append("write \(id) has placed every copy but is still live")
            }
        }
        for id in forwards.keys.sorted() where forwards[id]!.handedOver && forwards[id]!.target.isEmpty {
            broken.append("forward \(id) was handed over to no one")
        }
        for id in listings.keys.sorted() {
            let listing = listings[id]!
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
        return broken
    }
}
