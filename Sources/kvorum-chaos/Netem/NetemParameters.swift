/// What the relay does to the packets it is given: `sch_netem`'s knobs,
/// applied in userspace.
///
/// Each packet is dropped with probability `loss`; a packet that survives is
/// sent twice with probability `duplicate`; every copy is written back after
/// `delay` plus a uniform draw from `0..<jitter`, plus `reorderDelay` with
/// probability `reorder` (so a reordered packet overtakes nothing: later
/// packets overtake it).
struct NetemParameters: Equatable, Sendable {
    /// The fixed part of every copy's delay.
    var delay: Duration = .zero
    /// The width of the uniform random part added to `delay`.
    var jitter: Duration = .zero
    /// The probability that a packet is dropped.
    var loss: Double = 0
    /// The probability that a surviving packet is sent twice.
    var duplicate: Double = 0
    /// The probability that a copy is held back by `reorderDelay` more.
    var reorder: Double = 0
    /// The extra delay of a reordered copy.
    var reorderDelay: Duration = .milliseconds(10)

    /// Why these parameters are unusable, or `nil` if they are fine.
    var problem: String? {
        for (name, probability) in [("loss", loss), ("duplicate", duplicate), ("reorder", reorder)]
        where !(0...1).contains(probability) {
            return "\(name) must be a probability in 0...1, not \(probability)"
        }
        for (name, duration) in [("delay", delay), ("jitter", jitter), ("reorder delay", reorderDelay)]
        where duration < .zero {
            return "\(name) must not be negative, not \(duration)"
        }
        return nil
    }

    /// The `kvorum-chaos relay` options that give these parameters.
    var arguments: [String] {
        [
            "--delay", Self.seconds(delay), "--jitter", Self.seconds(jitter), "--loss", "\(loss)",
            "--duplicate", "\(duplicate)", "--reorder", "\(reorder)", "--reorder-delay", Self.seconds(reorderDelay),
        ]
    }

    /// The parameters in one line, for logs and fault descriptions.
    var summary: String {
        "delay \(Self.seconds(delay)) s, jitter \(Self.seconds(jitter)) s, loss \(loss), duplicate \(duplicate), "
            + "reorder \(reorder) (+\(Self.seconds(reorderDelay)) s)"
    }

    /// `duration` as a number of seconds.
    private static func seconds(_ duration: Duration) -> String {
        "\(duration / .seconds(1))"
    }
}
