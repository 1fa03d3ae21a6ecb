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
    private let process: Process
    private let output: NetemOutputCollector
    private let errors: NetemOutputCollector
    private let exited: DispatchSemaphore

    private init(
        device: String, process: Process, output: NetemOutputCollector, errors: NetemOutputCollector,
        exited: DispatchSemaphore
    ) {
        self.device = device
        self.process = process
        self.output = output
        self.errors = errors
        self.exited = exited
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
        let process = Process()
        process.executableURL = ip
        process.arguments =
            ["netns", "exec", namespace, executable.path, "relay", "--device", device, "--seed", "\(seed)"]
            + parameters.arguments
        process.standardInput = FileHandle.nullDevice
        let output = NetemOutputCollector(process: process, stream: .standardOutput)
        let errors = NetemOutputCollector(process: process, stream: .standardError)
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            throw NetemError("cannot start the relay in \(namespace): \(error)")
        }
        output.start()
        errors.start()
        guard let ready = output.line(startingWith: NetemCounts.readyPrefix, within: patience) else {
            // The output also ends when the relay exits; it is reaped a moment later.
            let exitedEarly = exited.wait(timeout: .now() + .seconds(1)) == .success
            if !exitedEarly {
                kill(process.processIdentifier, SIGKILL)
                exited.wait()
            }
            let why =
                exitedEarly ? "exited with status \(process.terminationStatus)" : "not ready after \(patience), killed"
            throw NetemError("relay on \(device) in \(namespace) \(why): \(errors.waitForEnd())")
        }
        return NetemRelayProcess(
            device: String(ready.dropFirst(NetemCounts.readyPrefix.count)), process: process, output: output,
            errors: errors, exited: exited)
    }

    /// Stops the relay (SIGTERM; SIGKILL if it has not exited within
    /// `patience`) and returns what it did. Its device and every route
    /// through it are gone once this returns.
    func stop(within patience: Duration = .seconds(10)) throws -> NetemCounts {
        process.terminate()
        guard exited.wait(timeout: .now() + .nanoseconds(Int(patience / .nanoseconds(1)))) == .success else {
            kill(process.processIdentifier, SIGKILL)
            exited.wait()
            throw NetemError("relay on \(device) ignored SIGTERM for \(patience), killed")
        }
        let stdout = output.waitForEnd()
        guard process.terminationStatus == 0,
            let counts = stdout.split(separator: "\n").lazy.compactMap(NetemCounts.init(stoppedLine:)).first
        else {
            throw NetemError(
                "relay on \(device) exited with status \(process.terminationStatus) without its counts: "
                    + "\(stdout) \(errors.waitForEnd())")
        }
        return counts
    }
}
