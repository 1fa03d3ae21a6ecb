/// The operations this node coordinates and the ids they go by.
///
/// Operation ids start in a fresh range after every restart (the range comes
/// from a durable epoch), so a late reply to an operation of an earlier life
/// never matches a new one. One table holds every kind of operation, so an
/// id names exactly one. The protocol steps of each operation live in
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

    /// One live operation, of one kind: an id names exactly one.
    private enum Live: Hashable {
        case read(ReadOperation)
        case write(WriteOperation)
        case forward(ForwardOperation)
        case list(ListOperation)

        var kind: Kind {
            switch self {
            case .read: .read
            case .write: .write
            case .forward: .forward
            case .list: .list
            }
        }
    }

    private var lastID: UInt64
    /// The live operations by id.
    private var live: [UInt64: Live] = [:]
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
    var count: Int { live.count }

    /// Every live operation id, ascending.
    var ids: [UInt64] { live.keys.sorted() }

    func kind(of id: UInt64) -> Kind? { live[id]?.kind }

    /// Whether a write to `key` is still placing its copies.
    func isWriting(_ key: Key) -> Bool {
        live.values.contains { if case .write(let write) = $0 { write.key == key } else { false } }
    }

    /// Records that the forwarded write `entry` is coordinated here.
    /// - Returns: false when it already was (the network delivered it twice).
    mutating func admitForward(_ entry: ForwardLedger.Entry) -> Bool {
        executedForwards.record(entry)
    }

    /// Stores or ends operation `id` of `kind`; ending an id of another kind
    /// changes nothing.
    private mutating func set(_ id: UInt64, _ kind: Kind, _ operation: Live?) {
        if let operation {
            live[id] = operation
        } else if live[id]?.kind == kind {
            live[id] = nil
        }
    }

    /// Takes operation `id` out of the table while it is changed in place
    /// (the `_modify` accessors below): the table then holds no second
    /// reference to the operation's arrays and sibling sets, so changing
    /// them copies nothing. `set` puts back what the change left.
    private mutating func take<Operation>(_ id: UInt64, _ extract: (Live) -> Operation?) -> Operation? {
        guard let current = live[id], let operation = extract(current) else { return nil }
        live[id] = nil
        return operation
    }

    subscript(read id: UInt64) -> ReadOperation? {
        get { if case .read(let op)? = live[id] { op } else { nil } }
        set { set(id, .read, newValue.map(Live.read)) }
        _modify {
            var operation = take(id) { if case .read(let op) = $0 { op } else { nil } }
            yield &operation
            set(id, .read, operation.map(Live.read))
        }
    }

    subscript(write id: UInt64) -> WriteOperation? {
        get { if case .write(let op)? = live[id] { op } else { nil } }
        set { set(id, .write, newValue.map(Live.write)) }
        _modify {
            var operation = take(id) { if case .write(let op) = $0 { op } else { nil } }
            yield &operation
            set(id, .write, operation.map(Live.write))
        }
    }

    subscript(forward id: UInt64) -> ForwardOperation? {
        get { if case .forward(let op)? = live[id] { op } else { nil } }
        set { set(id, .forward, newValue.map(Live.forward)) }
        _modify {
            var operation = take(id) { if case .forward(let op) = $0 { op } else { nil } }
            yield &operation
            set(id, .forward, operation.map(Live.forward))
        }
    }

    subscript(list id: UInt64) -> ListOperation? {
        get { if case .list(let op)? = live[id] { op } else { nil } }
        set { set(id, .list, newValue.map(Live.list)) }
        _modify {
            var operation = take(id) { if case .list(let op) = $0 { op } else { nil } }
            yield &operation
            set(id, .list, operation.map(Live.list))
        }
    }

    /// The operations' own invariants, described where one is broken.
    func violations() -> [String] {
        var broken: [String] = []
        for id in ids {
            switch live[id]! {
            case .read(let read):
                if read.replies.contains(where: { read.pending.contains($0.peer) }) {
                    broken.append("read \(id) waits for a peer that has replied")
                }
                if read.answered && read.replies.count < read.quorum {
                    broken.append("read \(id) answered with \(read.replies.count) of \(read.quorum) replies")
                }
            case .write(let write):
                if write.answered && write.stored < write.quorum {
                    broken.append("write \(id) answered with \(write.stored) of \(write.quorum) copies stored")
                }
                if write.isSettled {
                    broken.append("write \(id) has placed every copy but is still live")
                }
            case .forward(let forward):
                if forward.handedOver && forward.target.isEmpty {
                    broken.append("forward \(id) was handed over to no one")
                }
            case .list(let listing):
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
