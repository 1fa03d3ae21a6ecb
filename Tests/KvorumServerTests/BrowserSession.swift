import Foundation
import Glibc
import KvorumTestKit

/// One page open in headless Chromium, driven through `scripts/browser.py
/// serve` (the DevTools protocol): JSON commands a line on its stdin, JSON
/// answers a line on its stdout, every read bounded by a deadline.
///
/// `close()` (call it in a `defer`) ends the driver, which SIGKILLs
/// Chromium's process group; the driver also kills everything by itself
/// after `maxSeconds`, and when its stdin closes.
final class BrowserSession {
    /// Why a page could not be driven: no Chromium, a command that failed,
    /// a wait that timed out or a driver that did not answer in time.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The command that installs what the browser test needs.
    static let installHint = "apt-get install -y chromium (Debian's package; or set CHROMIUM to its path)"

    /// The Chromium executable: `$CHROMIUM` or `chromium` on the `PATH`; nil when there is none.
    static var chromium: String? {
        let name = ProcessInfo.processInfo.environment["CHROMIUM"] ?? "chromium"
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffered: [UInt8] = []
    private let stderrFile: URL

    /// Starts Chromium (with `arguments` besides the driver's own) and
    /// opens `url`; returns once the page has loaded.
    init(url: URL, chromium: String, arguments: [String] = [], maxSeconds: Int = 180) throws {
        stderrFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kvorum-browser-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                "python3", Paths.repository.appendingPathComponent("scripts/browser.py").path, "serve", "--url",
                url.absoluteString, "--chromium", chromium, "--max-seconds", String(maxSeconds),
            ] + arguments.map { "--chromium-arg=\($0)" }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        // A driver that died must fail the test, not kill it on a write.
        signal(SIGPIPE, SIG_IGN)
        try process.run()
        let ready = try answer(within: 60)
        guard ready["ok"] as? Bool == true else {
            close()
            throw Failure(description: "the browser did not open \(url): \(ready)")
        }
    }

    deinit { close() }

    /// The value of a JavaScript expression in the page.
    @discardableResult
    func evaluate(_ expression: String) throws -> Any? {
        try command(["eval": expression], within: 30)["value"] ?? nil
    }

    /// Polls `expression` in the page until it is truthy.
    ///
    /// - Throws: after `timeout` seconds, with the expression's last value.
    @discardableResult
    func wait(until expression: String, timeout: Double) throws -> Any? {
        try command(["wait": expression, "timeout": timeout], within: timeout + 30)["value"] ?? nil
    }

    /// Writes a PNG of the page's viewport (1280×800) to `file`.
    func screenshot(to file: URL) throws {
        _ = try command(["screenshot": file.path], within: 30)
    }

    /// Ends the driver and Chromium with it; safe to repeat.
    func close() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.write(contentsOf: Data("{\"quit\":true}\n".utf8))
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        // SIGTERM: the driver kills Chromium's process group before it exits.
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: stderrFile)
    }

    private func command(_ object: [String: Any], within seconds: Double) throws -> [String: Any] {
        let line = try JSONSerialization.data(withJSONObject: object) + Data("\n".utf8)
        try input.fileHandleForWriting.write(contentsOf: line)
        let reply = try answer(within: seconds)
        guard reply["ok"] as? Bool == true else {
            throw Failure(description: "browser command \(object) failed: \(reply)")
        }
        return reply
    }

    /// The next line the driver writes, parsed, waiting at most `seconds`.
    private func answer(within seconds: Double) throws -> [String: Any] {
        let descriptor = output.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Data(buffered[..<newline])
                buffered.removeSubrange(...newline)
                guard let object = try JSONSerialization.jsonObject(with: line) as? [String: Any] else {
                    throw Failure(description: "the driver wrote \(String(decoding: line, as: UTF8.self))")
                }
                return object
            }
            let left = deadline.timeIntervalSinceNow
            var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard left > 0, poll(&waiting, 1, Int32(left * 1000)) == 1 else {
                throw Failure(description: "the browser driver did not answer within \(seconds) s\(stderrTail)")
            }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else {
                throw Failure(description: "the browser driver exited\(stderrTail)")
            }
            buffered += chunk[..<count]
        }
    }

    private var stderrTail: String {
        let text = (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
        return text.isEmpty ? "" : "; its stderr:\n" + text.suffix(2000)
    }
}
