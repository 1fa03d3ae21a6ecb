import ArgumentParser
import Foundation
import KvorumChaos

/// `kvorum-chaos check HISTORY.jsonl [--json]`: judges a fault run's history.
/// Exit status 0 when it holds no violation, 1 when it does, 2 when the file
/// cannot be read or a line is not a history entry.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a fault run's JSON-lines history: lost writes, false siblings, duplicate executions, "
            + "phantoms, divergence; counts and availability per fault kind.",
        discussion: """
            Exit status: 0 when the history holds no violation, 1 when it does (a malformed history \
            included), 2 when the file cannot be read or a line is not a history entry.
            """
    )

    @Argument(help: "The history, one JSON object per line.")
    var history: String

    @Flag(help: "Print the report as JSON instead of the summary.")
    var json = false

    func run() throws {
        let text: String
        do {
            text = try String(contentsOfFile: history, encoding: .utf8)
        } catch {
            FileHandle.standardError.write(
                Data("kvorum-chaos check: cannot read \(history): \(error.localizedDescription)\n".utf8))
            throw ExitCode(2)
        }
        let entries: [HistoryEntry]
        do {
            entries = try History.parse(jsonLines: text)
        } catch {
            FileHandle.standardError.write(Data("kvorum-chaos check: \(history): \(error)\n".utf8))
            throw ExitCode(2)
        }
        let report = HistoryChecker.check(entries)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.rendered(), terminator: "")
        }
        if !report.isValid { throw ExitCode(1) }
    }
}
