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
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let output = NetemOutputCollector(process: process, stream: .standardOutput)
        let errors = NetemOutputCollector(process: process, stream: .standardError)
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            throw NetemError("\(line): cannot start: \(error)")
        }
        output.start()
        errors.start()
        guard exited.wait(timeout: .now() + .nanoseconds(Int(deadline / .nanoseconds(1)))) == .success else {
            kill(process.processIdentifier, SIGKILL)
            exited.wait()
            throw NetemError("\(line): still running after \(deadline), killed")
        }
        let stdout = output.waitForEnd()
        let stderr = errors.waitForEnd().trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0 else {
            throw NetemError("\(line): exit status \(process.terminationStatus): \(stderr)")
        }
        return stdout
    }
}
