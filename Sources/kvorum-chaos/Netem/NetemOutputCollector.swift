import Foundation

/// Gathers what a child process writes to one of its streams on a thread of
/// its own, so the child never blocks on a full pipe and the parent can wait,
/// with a deadline, for a line or for the end of the stream.
final class NetemOutputCollector: @unchecked Sendable {
    /// Which of the child's streams is collected.
    enum Stream {
        case standardOutput
        case standardError
    }

    private let pipe = Pipe()
    private let condition = NSCondition()
    private var text = ""
    private var ended = false

    /// Collects `stream` of `process`, which must not have been started yet.
    init(process: Process, stream: Stream) {
        switch stream {
        case .standardOutput: process.standardOutput = pipe
        case .standardError: process.standardError = pipe
        }
    }

    /// Starts reading; call once the process runs.
    func start() {
        let handle = pipe.fileHandleForReading
        Thread.detachNewThread {
            while true {
                let data = handle.availableData
                self.condition.lock()
                if data.isEmpty { self.ended = true } else { self.text += String(decoding: data, as: UTF8.self) }
                self.condition.broadcast()
                self.condition.unlock()
                if data.isEmpty { return }
            }
        }
    }

    /// The first complete line that starts with `prefix`, waiting at most
    /// `patience` for it; `nil` if the stream ended or the time ran out first.
    func line(startingWith prefix: String, within patience: Duration) -> Substring? {
        let deadline = Date() + patience / .seconds(1)
        condition.lock()
        defer { condition.unlock() }
        while true {
            let complete = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            if let line = complete.first(where: { $0.hasPrefix(prefix) }) { return line }
            if ended || !condition.wait(until: deadline) { return nil }
        }
    }

    /// Everything collected, once the stream ends or `patience` runs out.
    func waitForEnd(within patience: Duration = .seconds(5)) -> String {
        let deadline = Date() + patience / .seconds(1)
        condition.lock()
        defer { condition.unlock() }
        while !ended, condition.wait(until: deadline) {}
        return text
    }
}
