/// Items waiting for their due time: a binary min-heap on (due time, arrival
/// order), so items due at the same time leave in the order they came.
struct NetemDueQueue<Due: Comparable, Item> {
    private struct Entry {
        var due: Due
        var sequence: UInt64
        var item: Item

        func precedes(_ other: Entry) -> Bool {
            (due, sequence) < (other.due, other.sequence)
        }
    }

    private var heap: [Entry] = []
    private var arrivals: UInt64 = 0

    /// The number of waiting items.
    var count: Int { heap.count }

    /// The earliest due time, or `nil` if nothing waits.
    var nextDue: Due? { heap.first?.due }

    /// Adds `item`, due at `due`.
    mutating func insert(_ item: Item, due: Due) {
        heap.append(Entry(due: due, sequence: arrivals, item: item))
        arrivals += 1
        siftUp(heap.count - 1)
    }

    /// Removes and returns the earliest item if it is due at `now` or before.
    mutating func popDue(now: Due) -> Item? {
        guard let first = heap.first, first.due <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return first.item
    }

    /// Removes every item and returns them in due order.
    mutating func popAll() -> [Item] {
        var items: [Item] = []
        items.reserveCapacity(heap.count)
        while let due = nextDue, let item = popDue(now: due) { items.append(item) }
        return items
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            var first = parent
            for child in [2 * parent + 1, 2 * parent + 2] where child < heap.count && heap[child].precedes(heap[first])
            {
                first = child
            }
            guard first != parent else { return }
            heap.swapAt(parent, first)
            parent = first
        }
    }
}
