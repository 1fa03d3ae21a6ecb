import Foundation

/// A `kvorum-chaos relay` process running in a host's namespace (through
/// `ip netns exec`, which execs the relay in place, so the signals sent here
/// reach it). Starting it waits for its ready line; stopping it sends SIGTERM
/// and reads the counts it prints.
final class NetemRelayProcess: Sendable {
    /// The running `kvorum-chaos` binary, the default relay executable.
    static var currentExecutable: URL { URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath() }

    /// The relay's device, as the kernel named it.
    let device: String
    private let launched: LaunchedProcess
    private var process: Process { launched.process }

    private init(device: String, launched: LaunchedProcess) {
        self.device = device
        self.launched = launched
    }

    /// A relay nobody stopped is killed, so it cannot outlive its owner and
    /// keep delaying the host's traffic.
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Starts a relay on `device` in `namespace` and waits at most `patience`
    /// for its device to exist; the relay is killed if it is not ready by then.
    static func start(
        executable: URL = currentExecutable, namespace: String, device: String, parameters: NetemParameters,
        seed: UInt64, within patience: Duration = .seconds(10)
    ) throws -> NetemRelayProcess {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw NetemError("no relay executable at \(executable.path) (has `swift build` built kvorum-chaos?)")
        }
        guard let ip = SystemCommand.locate("ip") else { throw NetemError("ip (iproute2) is not installed") }
        let launched = try LaunchedProcess.start(
            ip,
            ["netns", "exec", namespace, executable.path, "relay", "--device", device, "--seed", "\(seed)"]
                + parameters.arguments,
            describing: "the relay in \(namespace)")
        guard let ready = launched.output.line(startingWith: NetemCounts.readyPrefix, within: patience) else {
            // The output also ends when the relay exits; it is reaped a moment later.
            let exitedEarly = launched.waitForExit(within: .seconds(1))
            if !exitedEarly { launched.kill() }
            let why =
                exitedEarly
                ? "exited with status \(launched.process.terminationStatus)" : "not ready after \(patience), killed"
            throw NetemError("relay on \(device) in \(namespace) \(why): \(launched.errors.waitForEnd())")
        }
        return NetemRelayProcess(
            device: String(ready.dropFirst(NetemCounts.readyPrefix.count)), launched: launched)
    }

    /// Stops the relay (SIGTERM; SIGKILL if it has not exited within
    /// `patience`) and returns what it did. Its device and every route
    /// through it are gone once this returns.
    func stop(within patience: Duration = .seconds(10)) throws -> NetemCounts {
        process.terminate()
        guard launched.waitForExit(within: patience) else {
            launched.kill()
            throw NetemError("relay on \(device) ignored SIGTERM for \(patience), killed")
        }
        let stdout = launched.output.waitForEnd()
        guard process.terminationStatus == 0,
            let counts = stdout.split(separator: "\n").lazy.compactMap(NetemCounts.init(stoppedLine:)).first
        else {
            throw NetemError(
                "relay on \(device) exited with status \(process.terminationStatus) without its counts: "
                    + "\(stdout) \(launched.errors.waitForEnd())")
        }
        return counts
    }
}
