import ArgumentParser
import Foundation
import KvorumClient

/// A failure the CLI reports as one line on standard error before exiting
/// with status 1.
struct CLIError: Error, CustomStringConvertible {
    /// What went wrong.
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Output on the terminal.
enum Console {
    /// Writes a line to standard error.
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Writes a line to standard output and flushes it, so a supervisor
    /// whose output goes to a pipe or file shows it at once.
    static func say(_ line: String = "") {
        print(line)
        fflush(nil)
    }

    /// Runs `body`; a `CLIError` or `KvorumClientError` it throws becomes
    /// `error: …` on standard error and the exit status (2 for a node that
    /// could not be reached, else 1). `hint` is added below an unreachable
    /// node's message.
    static func reportingErrors(hint: String? = nil, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as KvorumClientError {
            Console.error("error: \(error)")
            if error.isUnreachable, let hint { Console.error(hint) }
            throw ExitCode(error.isUnreachable ? 2 : 1)
        } catch let error as CLIError {
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
    }
}
