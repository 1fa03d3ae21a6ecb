import Foundation
import KvorumCore

/// How a benchmark picks the key of each operation.
public enum KeyDistribution: String, CaseIterable, Sendable, Codable {
    /// Every record equally likely.
    case uniform
    /// YCSB's scrambled zipfian: zipfian ranks (constant 0.99) over the
    /// records, each rank hashed (FNV-1a 64) onto a record, so the hot
    /// records are spread over the key space instead of being its first ones.
    case zipfian
}

/// The zipfian distribution over ranks `0..<count` of Gray et al., "Quickly
/// Generating Billion-Record Synthetic Databases" (SIGMOD '94), the algorithm
/// of YCSB's `ZipfianGenerator`: rank 0 is the most popular.
public struct ZipfianGenerator: Sendable {
    /// The number of ranks.
    public let count: Int
    /// The skew: YCSB's zipfian constant, 0.99 by default.
    public let theta: Double
    private let zetaN: Double
    private let alpha: Double
    private let eta: Double
    private let halfPowTheta: Double

    /// A generator over `count` ranks with skew `theta` (0 < theta < 1).
    public init(count: Int, theta: Double = 0.99) {
        precondition(count >= 1 && theta > 0 && theta < 1)
        self.count = count
        self.theta = theta
        var zeta = 0.0
        for i in 1...count { zeta += 1 / pow(Double(i), theta) }
        let zeta2 = 1 + pow(0.5, theta)
        zetaN = zeta
        alpha = 1 / (1 - theta)
        eta = (1 - pow(2 / Double(count), 1 - theta)) / (1 - zeta2 / zeta)
        halfPowTheta = pow(0.5, theta)
    }

    /// The next rank, in `0..<count`.
    public func next(using random: inout SplitMix64) -> Int {
        let u = random.nextUnit()
        let uz = u * zetaN
        if uz < 1 { return 0 }
        if uz < 1 + halfPowTheta { return min(1, count - 1) }
        let rank = Int(Double(count) * pow(eta * u - eta + 1, alpha))
        return min(max(rank, 0), count - 1)
    }
}

/// Chooses record numbers in `0..<records` with a distribution.
public struct KeyChooser: Sendable {
    /// The number of records.
    public let records: Int
    /// The distribution.
    public let distribution: KeyDistribution
    private let zipfian: ZipfianGenerator?

    /// A chooser over `records` records.
    public init(records: Int, distribution: KeyDistribution) {
        precondition(records >= 1)
        self.records = records
        self.distribution = distribution
        zipfian = distribution == .zipfian ? ZipfianGenerator(count: records) : nil
    }

    /// The next record number.
    public func next(using random: inout SplitMix64) -> Int {
        guard let zipfian else { return Int(random.next() % UInt64(records)) }
        return Int(Self.fnv1a64(UInt64(zipfian.next(using: &random))) % UInt64(records))
    }

    /// FNV-1a 64 of the eight little-endian bytes of `value` (YCSB's `fnvhash64`).
    static func fnv1a64(_ value: UInt64) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        var rest = value
        for _ in 0..<8 {
            hash ^= rest & 0xFF
            hash = hash &* 0x100_0000_01B3
            rest >>= 8
        }
        return hash
    }

    /// The key of record `number`: `user` and the number, zero-padded to ten
    /// digits, as YCSB names its records.
    public static func key(_ number: Int) -> String {
        let digits = String(number)
        return "user" + String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }
}
