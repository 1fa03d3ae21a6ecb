import HeapModule

/// The simulation's pending events, earliest first; events due at the same
/// time in the order they were scheduled.
///
/// The heap orders small keys (due time, sequence, the place where the
/// event waits) rather than the events themselves: a message's event holds
/// an envelope of over a hundred bytes and several references, which every
/// sift of the heap would otherwise copy, retain and release. The events
/// wait in `waiting`, whose emptied places are reused.
struct EventQueue {
    private struct Entry: Comparable {
        var due: Double
        var sequence: UInt64
        /// Where the event waits in `waiting`.
        var place: Int

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.due, lhs.sequence) < (rhs.due, rhs.sequence)
        }

        static func == (lhs: Entry, rhs: Entry) -> Bool {
            lhs.sequence == rhs.sequence
        }
    }

    private var heap = Heap<Entry>()
    private var waiting: [ScheduledEvent?] = []
    private var emptyPlaces: [Int] = []
    private var scheduled: UInt64 = 0

    /// The due time of the earliest event; nil when none is pending.
    var firstDue: Double? { heap.min?.due }

    /// Hands the earliest event to `body` without removing it; nil when
    /// none is pending.
    func withFirst<Result>(_ body: (ScheduledEvent) -> Result) -> Result? {
        guard let first = heap.min else { return nil }
        return body(waiting[first.place]!)
    }

    /// Adds an event due at `due`.
    mutating func insert(_ event: ScheduledEvent, due: Double) {
        scheduled += 1
        let place: Int
        if let empty = emptyPlaces.popLast() {
            place = empty
            waiting[place] = event
        } else {
            place = waiting.count
            waiting.append(event)
        }
        heap.insert(Entry(due: due, sequence: scheduled, place: place))
    }

    /// Removes and returns the earliest event, which must exist (`firstDue`
    /// is not nil). Not optional: the compiler destroys an optional event
    /// through the generic runtime, at several times the cost.
    mutating func removeFirst() -> ScheduledEvent {
        let first = heap.removeMin()
        emptyPlaces.append(first.place)
        return waiting[first.place].take()!
    }
}
