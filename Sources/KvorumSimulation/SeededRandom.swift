import KvorumCore

/// A small, fast, seedable pseudo-random generator: xoshiro256** (Blackman and
/// Vigna, 2018), its state filled from the seed by SplitMix64.
///
/// Every random choice the simulator makes comes from one of these, so a run is
/// reproducible from its seed. The conversions to `Double` and to ranges are done
/// here rather than by the standard library, so the stream of values does not
/// depend on the Swift version.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// Creates a generator whose whole output is determined by `seed`.
    public init(seed: UInt64) {
        var mixer = SplitMix64(seed: seed)
        state = (mixer.next(), mixer.next(), mixer.next(), mixer.next())
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = Self.rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = Self.rotateLeft(state.3, 45)
        return result
    }

    /// A uniformly distributed value in `[0, 1)` with 53 random bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniformly distributed value in `[lower, upper)` (`lower` when the two are equal).
    public mutating func nextDouble(from lower: Double, to upper: Double) -> Double {
        lower + (upper - lower) * nextUnit()
    }

    /// True with probability `probability` (never for 0, always for 1).
    public mutating func chance(_ probability: Double) -> Bool {
        nextUnit() < probability
    }

    /// A uniformly distributed integer in `0..<bound`, without modulo bias.
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let limit = UInt64(bound)
        let threshold = (0 &- limit) % limit
        while true {
            let value = next()
            if value >= threshold { return Int(value % limit) }
        }
    }

    private static func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}
