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
@inlinable
public func byteOrder(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}
