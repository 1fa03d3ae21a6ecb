/// What a relay did with the packets it read, and the lines by which a relay
/// process tells its parent that it is ready and what it did.
///
/// A relay prints `netem relay ready device=NAME` once its device exists, and
/// `netem relay stopped received=… relayed=… dropped=… duplicated=… failed=…`
/// when SIGTERM or SIGINT stops it.
struct NetemCounts: Equatable, Sendable {
    /// The start of the line a relay prints once its device exists.
    static let readyPrefix = "netem relay ready device="
    /// The start of the line a relay prints when it stops.
    static let stoppedPrefix = "netem relay stopped "

    /// Packets read from the device.
    var received = 0
    /// Copies written back (a duplicated packet counts twice).
    var relayed = 0
    /// Packets dropped.
    var dropped = 0
    /// Packets sent twice.
    var duplicated = 0
    /// Copies whose write back to the device failed.
    var failed = 0

    init() {}

    /// The counts of a `stoppedLine`, or `nil` if `line` is not one.
    init?(stoppedLine line: Substring) {
        guard line.hasPrefix(Self.stoppedPrefix) else { return nil }
        var fields: [Substring: Int] = [:]
        for field in line.dropFirst(Self.stoppedPrefix.count).split(separator: " ") {
            let parts = field.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Int(parts[1]) else { return nil }
            fields[parts[0]] = value
        }
        guard let received = fields["received"], let relayed = fields["relayed"], let dropped = fields["dropped"],
            let duplicated = fields["duplicated"], let failed = fields["failed"], fields.count == 5
        else { return nil }
        self.received = received
        self.relayed = relayed
        self.dropped = dropped
        self.duplicated = duplicated
        self.failed = failed
    }

    /// The line a relay prints when it stops.
    var stoppedLine: String {
        Self.stoppedPrefix
            + "received=\(received) relayed=\(relayed) dropped=\(dropped) duplicated=\(duplicated) failed=\(failed)"
    }
}
