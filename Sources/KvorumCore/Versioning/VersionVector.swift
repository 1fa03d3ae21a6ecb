/// A causal context: the set of write events (dots) a version or a client has
/// seen, stored compactly as a version vector plus isolated dots.
///
/// `self[a] = c` means every event `a:1 … a:c` is known. A dot beyond the
/// contiguous range (a concurrent sibling's write that was seen, while an
/// earlier one of the same actor was not) is kept in `dots`; it is folded
/// into the range once the gap below it closes. Treating such a dot as
/// contiguous would claim knowledge of writes never seen and silently drop
/// them: exactly the lost update dotted version vectors exist to prevent
/// (Preguiça et al.; Almeida et al., "Scalable and Accurate Causality
/// Tracking for Eventually Consistent Stores", 2014).
///
/// The ranges are a short array in canonical (byte-wise) actor order rather
/// than a table: a vector names a handful of actors, and comparing a handful
/// of short strings costs less than hashing one, which every lookup, join
/// and dominance check would otherwise pay; the encodings, which list the
/// actors in that order, no longer sort them.
public struct VersionVector: Hashable, Sendable {
    /// One contiguous range: every event `actor:1 … actor:counter`.
    public struct Range: Hashable, Sendable {
        public var actor: String
        public var counter: UInt64
    }

    /// The contiguous ranges, by actor in byte-wise order, none empty.
    public private(set) var ranges: [Range]
    /// Known events beyond the contiguous ranges, in canonical order.
    public private(set) var dots: [Dot]

    public init(_ counters: [String: UInt64] = [:], dots: [Dot] = []) {
        self.init(
            sorted: counters.filter { $0.value > 0 }.map { Range(actor: $0.key, counter: $0.value) }
                .sorted { byteOrder($0.actor, $1.actor) },
            dots: dots)
    }

    /// A vector from ranges in any order, where a later range of an actor
    /// replaces an earlier one (as a table filled in order would).
    init(ranges: [Range], dots: [Dot]) {
        if Self.isCanonical(ranges) {
            self.init(sorted: ranges, dots: dots)
        } else {
            self.init(Dictionary(ranges.map { ($0.actor, $0.counter) }, uniquingKeysWith: { $1 }), dots: dots)
        }
    }

    /// A vector from canonical ranges (see `isCanonical`) and dots in any order.
    private init(sorted ranges: [Range], dots: [Dot]) {
        self.ranges = ranges
        self.dots = dots
        normalize()
    }

    public var isEmpty: Bool { ranges.isEmpty && dots.isEmpty }

    /// The contiguous ranges as a table from actor to the end of its range.
    public var counters: [String: UInt64] {
        Dictionary(uniqueKeysWithValues: ranges.map { ($0.actor, $0.counter) })
    }

    /// The end of the contiguous range known for `actor`.
    public subscript(actor: String) -> UInt64 {
        for range in ranges where range.actor == actor { return range.counter }
        return 0
    }

    /// Actors of the contiguous ranges in canonical (byte-wise) order.
    public var actors: [String] { ranges.map(\.actor) }

    /// The highest counter of `actor` known here, contiguous or not.
    public func maxCounter(of actor: String) -> UInt64 {
        dots.reduce(self[actor]) { $1.actor == actor ? max($0, $1.counter) : $0 }
    }

    public func covers(_ dot: Dot) -> Bool {
        self[dot.actor] >= dot.counter || dots.contains(dot)
    }

    /// True when every event known to `other` is known here too.
    public func dominatesOrEquals(_ other: VersionVector) -> Bool {
        other.ranges.allSatisfy { self[$0.actor] >= $0.counter } && other.dots.allSatisfy(covers)
    }

    /// Adds one event (not the events before it).
    public mutating func add(_ dot: Dot) {
        guard !covers(dot) else { return }
        dots.append(dot)
        normalize()
    }

    public mutating func join(_ other: VersionVector) {
        joinRanges(of: other)
        add(contentsOf: other.dots)
    }

    /// Joins the contiguous ranges of `other`, not its isolated dots.
    mutating func joinRanges(of other: VersionVector) {
        for range in other.ranges { raise(range.actor, to: range.counter) }
    }

    /// Adds events (each alone, not the events before it), normalizing once.
    /// Also folds the dots a longer range now reaches, after `joinRanges`.
    mutating func add(contentsOf events: [Dot]) {
        dots.append(contentsOf: events)
        normalize()
    }

    public func joined(_ other: VersionVector) -> VersionVector {
        var copy = self
        copy.join(other)
        return copy
    }

    public func adding(_ dot: Dot) -> VersionVector {
        var copy = self
        copy.add(dot)
        return copy
    }

    /// Extends the range of `actor` to `counter` if it is shorter, keeping
    /// the ranges in order.
    private mutating func raise(_ actor: String, to counter: UInt64) {
        if let i = ranges.firstIndex(where: { $0.actor == actor }) {
            ranges[i].counter = max(ranges[i].counter, counter)
        } else {
            let place = ranges.firstIndex { byteOrder(actor, $0.actor) } ?? ranges.endIndex
            ranges.insert(Range(actor: actor, counter: counter), at: place)
        }
    }

    /// Folds dots that extend a contiguous range into it, drops covered and
    /// duplicate dots, and sorts the rest.
    private mutating func normalize() {
        guard !dots.isEmpty else { return }
        dots.sort { a, b in a.actor == b.actor ? a.counter < b.counter : byteOrder(a.actor, b.actor) }
        var rest: [Dot] = []
        for dot in dots {
            let known = self[dot.actor]
            if dot.counter <= known || rest.last == dot { continue }
            if dot.counter == known + 1 {
                raise(dot.actor, to: dot.counter)
            } else {
                rest.append(dot)
            }
        }
        dots = rest
    }

    /// Whether ranges are in strictly increasing actor order and none is empty.
    private static func isCanonical(_ ranges: [Range]) -> Bool {
        ranges.allSatisfy { $0.counter > 0 }
            && zip(ranges, ranges.dropFirst()).allSatisfy { byteOrder($0.actor, $1.actor) }
    }
}

extension VersionVector: Codable {
    private struct Entry: Codable {
        var actor: String
        var counter: UInt64
    }

    private enum CodingKeys: String, CodingKey {
        case counters
        case dots
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let entries = try container.decode([Entry].self, forKey: .counters)
        let dots = try container.decodeIfPresent([Entry].self, forKey: .dots) ?? []
        self.init(
            Dictionary(entries.map { ($0.actor, $0.counter) }, uniquingKeysWith: max),
            dots: dots.map { Dot(actor: $0.actor, counter: $0.counter) })
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ranges.map { Entry(actor: $0.actor, counter: $0.counter) }, forKey: .counters)
        if !dots.isEmpty {
            try container.encode(dots.map { Entry(actor: $0.actor, counter: $0.counter) }, forKey: .dots)
        }
    }
}
