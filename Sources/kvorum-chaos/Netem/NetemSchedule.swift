import struct KvorumCore.SplitMix64

/// What happens to one packet the relay reads.
enum PacketFate: Equatable, Sendable {
    /// The packet is never written back.
    case drop
    /// The packet is written back once per delay, each copy that long after
    /// it was read (two delays for a duplicated packet).
    case deliver([Duration])
}

/// The relay's decisions, packet after packet: a pure function of the
/// parameters and the seed, so a run's faults can be replayed and tested
/// without a TUN device.
///
/// Every packet draws from the generator in the same order: loss; then, if
/// it survives, duplication; then for each copy its jitter and whether it is
/// reordered.
struct NetemSchedule: Sendable {
    private let parameters: NetemParameters
    private var random: SplitMix64

    /// The schedule of `parameters` from `seed`.
    init(parameters: NetemParameters, seed: UInt64) {
        self.parameters = parameters
        random = SplitMix64(seed: seed)
    }

    /// The fate of the next packet.
    mutating func nextFate() -> PacketFate {
        if random.nextUnit() < parameters.loss { return .drop }
        let copies = random.nextUnit() < parameters.duplicate ? 2 : 1
        return .deliver((0..<copies).map { _ in nextDelay() })
    }

    private mutating func nextDelay() -> Duration {
        let jitter = parameters.jitter * random.nextUnit()
        let held = random.nextUnit() < parameters.reorder ? parameters.reorderDelay : .zero
        return parameters.delay + jitter + held
    }
}
