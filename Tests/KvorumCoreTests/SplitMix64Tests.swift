import KvorumCore
import Testing

/// The project's one SplitMix64 against the reference sequence.
struct SplitMix64Tests {
    /// The first outputs for seed 1234567 as published with the algorithm's
    /// reference code (Rosetta Code, "Pseudo-random numbers/Splitmix64"),
    /// and for seed 0, both recomputed independently with Python's big
    /// integers.
    @Test func referenceOutputs() {
        var published = SplitMix64(seed: 1_234_567)
        let publishedOutputs: [UInt64] = [
            6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
            4_593_380_528_125_082_431, 16_408_922_859_458_223_821,
        ]
        #expect((0..<5).map { _ in published.next() } == publishedOutputs)
        var zero = SplitMix64(seed: 0)
        let zeroOutputs: [UInt64] = [
            0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC,
            0x1B39_896A_51A8_749B,
        ]
        #expect((0..<5).map { _ in zero.next() } == zeroOutputs)
    }

    /// `nextUnit` is the top 53 bits over 2^53; `below` stays in range.
    @Test func derivedDraws() {
        var random = SplitMix64(seed: 0)
        let first: UInt64 = 0xE220_A839_7B1D_CDAF
        #expect(random.nextUnit() == Double(first >> 11) / 0x1p53)
        for bound in [1, 2, 3, 10, 1000] {
            #expect((0..<bound).contains(random.below(bound)))
        }
    }
}
