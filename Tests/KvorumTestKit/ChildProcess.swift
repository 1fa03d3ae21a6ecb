import Foundation

/// Runs a child process to completion with a deadline, feeding it input and
/// collecting its output. The child is always killed if it overruns.
public struct ChildProcess {
    public struct Result {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var timedOut: Bool
        public var seconds: Double
        /// The CPU time (user + system) the child had used when last seen
        /// running, sampled from `/proc` every 10 ms; nil if never sampled.
        public var cpuSeconds: Double?
    }

    public static func run(
        _ executable: URL, _ arguments: [String], input: String = "", environment: [String: String] = [:],
        directory: URL? = nil, deadline seconds: Double
    ) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = directory }
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let output = Collector(stdout.fileHandleForReading)
        let errors = Collector(stderr.fileHandleForReading)
        let start = Date()
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        var timedOut = false
        var cpuSeconds: Double?
        while process.isRunning {
            cpuSeconds = Self.cpuSeconds(of: process.processIdentifier) ?? cpuSeconds
            if Date().timeIntervalSince(start) > seconds {
                timedOut = true
                process.terminate()
                Thread.sleep(forTimeInterval: 0.5)
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                break
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: output.text(), stderr: errors.text(), timedOut: timedOut,
            seconds: Date().timeIntervalSince(start), cpuSeconds: cpuSeconds)
    }

    /// The user and system CPU time of a live process: fields 14 and 15
    /// of `/proc/PID/stat`, in clock ticks.
    private static func cpuSeconds(of pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // The fields after the command name start with field 3 (the state).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Drains a pipe on a background thread so a chatty child never blocks.
    private final class Collector: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ handle: FileHandle) {
            DispatchQueue.global().async {
                self.data = handle.readDataToEndOfFile()
                self.done.signal()
            }
        }

        func text() -> String {
            done.wait()
            return String(decoding: data, as: UTF8.self)
        }
    }
}

/// Where the built `kvorum` executable and the repository are.
public enum Paths {
    /// The package root (three levels above this file).
    public static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `KVORUM_EXECUTABLE` if set, else the `kvorum` binary that `swift test`
    /// built next to the test bundle.
    public static var kvorum: URL {
        if let path = ProcessInfo.processInfo.environment["KVORUM_EXECUTABLE"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        let runner = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return runner.deletingLastPathComponent().appendingPathComponent("kvorum")
    }
}

/// A `kvorum` process that appends its standard output and error to a log
/// file, after a line naming the command (`=== test: kvorum …`), for the
/// tests that keep nodes running. Not started: the caller runs it (under
/// its own lock, next to its bookkeeping), then closes `log`.
public struct LoggedKvorum {
    public let process = Process()
    /// The log's handle in this process, to close once the child runs.
    public let log: FileHandle

    public init(_ arguments: [String], logTo path: URL) throws {
        let descriptor = open(path.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard descriptor >= 0 else { throw CannotOpenLog(path: path.path) }
        log = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        log.write(Data("=== test: kvorum \(arguments.joined(separator: " "))\n".utf8))
        process.executableURL = Paths.kvorum
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
    }

    public struct CannotOpenLog: Error, CustomStringConvertible {
        public var path: String
        public var description: String { "cannot open \(path)" }
    }
}
