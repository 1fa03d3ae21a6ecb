import Foundation

/// Runs a host tool such as `ip` to completion, within a deadline. A failure
/// names the command line, its exit status and its stderr, which is what
/// tells why the kernel refused (`Error: … File exists`, `Cannot find device`).
enum SystemCommand {
    /// Where tools are looked for when `PATH` does not have them (test
    /// runners often lack the `sbin` directories, where `ip` lives).
    private static let fallbackDirectories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]

    /// The path of `tool`, or `nil` if it is not installed.
    static func locate(_ tool: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + fallbackDirectories
        return directories.lazy.map { URL(fileURLWithPath: $0).appendingPathComponent(tool) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs `tool arguments…` and returns its stdout; throws if it cannot be
    /// started, exits non-zero or outlives `deadline` (it is killed then).
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], deadline: Duration = .seconds(10)) throws -> String {
        let line = ([tool] + arguments).joined(separator: " ")
        guard let executable = locate(tool) else { throw NetemError("\(line): \(tool) is not installed") }
        let launched = try LaunchedProcess.start(executable, arguments, describing: line)
        guard launched.waitForExit(within: deadline) else {
            launched.kill()
            throw NetemError("\(line): still running after \(deadline), killed")
        }
        let (process, output, errors) = (launched.process, launched.output, launched.errors)
        let stdout = output.waitForEnd()
        let stderr = errors.waitForEnd().trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0 else {
            throw NetemError("\(line): exit status \(process.terminationStatus): \(stderr)")
        }
        return stdout
    }
}

/// A child process whose standard output and error are collected as it runs
/// and whose exit is signalled: what `SystemCommand.run` and the relay's
/// owner both start.
final class LaunchedProcess: Sendable {
    let process: Process
    let output: NetemOutputCollector
    let errors: NetemOutputCollector
    private let exited: DispatchSemaphore

    private init(process: Process, exited: DispatchSemaphore) {
        self.process = process
        self.exited = exited
        output = NetemOutputCollector(process: process, stream: .standardOutput)
        errors = NetemOutputCollector(process: process, stream: .standardError)
    }

    /// Starts `executable arguments…` with no standard input; `line` names
    /// it in the error if it cannot start.
    static func start(_ executable: URL, _ arguments: [String], describing line: String) throws -> LaunchedProcess {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        let launched = LaunchedProcess(process: process, exited: exited)
        do {
            try process.run()
        } catch {
            throw NetemError("\(line): cannot start: \(error)")
        }
        launched.output.start()
        launched.errors.start()
        return launched
    }

    /// Waits at most `patience` for the process to exit; true if it did.
    func waitForExit(within patience: Duration) -> Bool {
        guard exited.wait(timeout: .now() + .nanoseconds(Int(patience / .nanoseconds(1)))) == .success else {
            return false
        }
        exited.signal()  // so that a later wait sees the exit too
        return true
    }

    /// SIGKILL, then waits until the process is gone.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        exited.wait()
        exited.signal()
    }
}
