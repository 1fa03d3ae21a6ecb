import ArgumentParser
import Foundation

/// `kvorum-chaos relay`: netem without `sch_netem`. Creates a TUN device in
/// the current network namespace and writes every packet routed into it back
/// to the kernel, late, twice or never, as the parameters and the seed say.
/// `NetemLink` routes a host's packets for chosen peers through it.
struct RelayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Delay, drop, duplicate and reorder the packets routed through a TUN device (userspace netem).",
        discussion: """
            Run inside a host's namespace (ip netns exec NS kvorum-chaos relay …). Prints \
            "\(NetemCounts.readyPrefix)NAME" once the device exists, and its counts when SIGTERM or SIGINT \
            stops it. The device and every route through it vanish when the relay exits.
            """
    )

    /// How long the relay waits, once stopped, for the packets it holds to be written.
    private static let drainPatience: Duration = .seconds(1)

    @Option(help: "The TUN device to create (at most 15 bytes; NAME%d lets the kernel number it).")
    var device = "kvnetem0"

    @Option(help: "The delay of every packet, in seconds.")
    var delay = 0.0

    @Option(help: "The width, in seconds, of a uniform random delay added to --delay.")
    var jitter = 0.0

    @Option(help: "The probability that a packet is dropped.")
    var loss = 0.0

    @Option(help: "The probability that a packet is sent twice.")
    var duplicate = 0.0

    @Option(help: "The probability that a packet is held back by --reorder-delay more.")
    var reorder = 0.0

    @Option(help: "The extra delay of a reordered packet, in seconds.")
    var reorderDelay = 0.01

    @Option(help: "The seed of the per-packet decisions.")
    var seed: UInt64 = 1

    /// The parameters the options give.
    var parameters: NetemParameters {
        NetemParameters(
            delay: .seconds(delay), jitter: .seconds(jitter), loss: loss, duplicate: duplicate, reorder: reorder,
            reorderDelay: .seconds(reorderDelay))
    }

    func validate() throws {
        for (name, seconds) in [("delay", delay), ("jitter", jitter), ("reorder-delay", reorderDelay)]
        where !seconds.isFinite {
            throw ValidationError("--\(name) must be a number of seconds, not \(seconds)")
        }
        if let problem = parameters.problem { throw ValidationError(problem) }
    }

    func run() throws {
        let stop = DispatchSemaphore(value: 0)
        let handlers = Self.handleStopSignals(with: stop)
        let tun = try NetemTunDevice(name: device)
        let engine = NetemRelayEngine(device: tun, schedule: NetemSchedule(parameters: parameters, seed: seed))
        engine.start()
        Self.say(NetemCounts.readyPrefix + tun.name)
        stop.wait()
        Self.say(engine.stop(patience: Self.drainPatience).stoppedLine)
        withExtendedLifetime(handlers) {}
    }

    /// Makes SIGTERM and SIGINT signal `stop` instead of killing the process,
    /// for as long as the returned handlers live.
    private static func handleStopSignals(with stop: DispatchSemaphore) -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            return source
        }
    }

    /// Writes `line` to stdout at once (stdout is a pipe, which `print` would buffer).
    private static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
