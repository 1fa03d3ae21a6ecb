/// One write event: the `counter`-th write coordinated by `actor` for a key.
///
/// Dotted version vectors (Preguiça, Baquero et al., "Dotted Version Vectors:
/// Logical Clocks for Optimistic Replication", 2010) give every version its own
/// dot, so two writes with the same context through the same coordinator get
/// different dots and both survive as siblings.
public struct Dot: Hashable, Sendable, Codable {
    public var actor: String
    public var counter: UInt64

    public init(actor: String, counter: UInt64) {
        self.actor = actor
        self.counter = counter
    }
}

/// Byte-wise string order: the same on every platform and every process,
/// unlike locale- or normalisation-aware comparisons.
///
/// Compares the strings' contiguous UTF-8 bytes where they have them (every
/// native string does), several times faster than stepping their UTF-8 views.
@inlinable
public func byteOrder(_ a: String, _ b: String) -> Bool {
    let fast = a.utf8.withContiguousStorageIfAvailable { x in
        b.utf8.withContiguousStorageIfAvailable { y in x.lexicographicallyPrecedes(y) }
    }
    return (fast ?? nil) ?? a.utf8.lexicographicallyPrecedes(b.utf8)
}
