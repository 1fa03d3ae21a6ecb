import Foundation
import KvorumCore

/// Runs one node over standard input and output (docs/stdio-protocol.md):
/// writes the handshake, then answers every event line with one effects
/// line, flushing each, until standard input closes.
public struct StdioDriver {
    public let node: KvorumNode
    private let readLine: () -> String?
    private let writeLine: (String) -> Void
    private let log: (String) -> Void

    /// A driver over the process's own stdin, stdout and stderr.
    public init(node: KvorumNode) {
        self.init(
            node: node,
            readLine: { Swift.readLine(strippingNewline: true) },
            writeLine: { line in
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            },
            log: { line in
                FileHandle.standardError.write(Data(("kvorum[\(node.config.name)]: " + line + "\n").utf8))
            })
    }

    public init(
        node: KvorumNode, readLine: @escaping () -> String?, writeLine: @escaping (String) -> Void,
        log: @escaping (String) -> Void
    ) {
        self.node = node
        self.readLine = readLine
        self.writeLine = writeLine
        self.log = log
    }

    /// Serves until end of input. Returns the number of event lines handled.
    @discardableResult
    public func run() -> Int {
        writeLine(StdioProtocol.handshake(name: node.config.name, address: node.config.address))
        var lineNumber = 0
        while let line = readLine() {
            lineNumber += 1
            guard !line.allSatisfy(\.isWhitespace) else {
                report("event line \(lineNumber): empty line")
                continue
            }
            do {
                let timed = try StdioProtocol.decodeEvent(line)
                writeLine(StdioProtocol.encode(node.handle(timed.event, now: timed.time)))
            } catch {
                report("event line \(lineNumber): \(error.description)")
            }
        }
        return lineNumber
    }

    private func report(_ reason: String) {
        log(reason)
        writeLine(StdioProtocol.encodeError(reason))
    }
}
