import ArgumentParser
import Foundation
import KvorumClient

/// `kvorum status`: the whole cluster as one node sees it, like `nodetool status`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every member of the cluster as the node sees it: state, addresses, records, hints, ring share.",
        discussion: """
            One line per member (GET /status): its state (up, suspected, down, joining, leaving), peer and HTTP \
            address, records, hints pending for it anywhere in the cluster, share of the ring (partitions it is \
            the primary of) and how long ago the node last heard from it. With --json, the node's JSON verbatim. \
            Exit status: 0 when no member is down or suspected, \(Self.unhealthyExitCode) when one is, 2 when \
            the node cannot be reached, 1 for any other error.
            """
    )

    /// The exit status when a member is down or suspected.
    static let unhealthyExitCode: Int32 = 3

    @OptionGroup var options: NodeOptions

    func run() async throws {
        var status: ClusterStatus?
        try await options.perform { client in
            let answer = try await client.send(.status)
            status = try JSONDecoder().decode(ClusterStatus.self, from: Data(answer.body))
            if options.json {
                options.printVerbatim(answer)
            } else {
                print(StatusTable(status!).text, terminator: "")
            }
        }
        if let status, status.members.contains(where: { $0.state == .down || $0.state == .suspected }) {
            throw ExitCode(Self.unhealthyExitCode)
        }
    }
}

/// The status table's text: a header, then one aligned row per member.
struct StatusTable {
    let status: ClusterStatus

    init(_ status: ClusterStatus) { self.status = status }

    var text: String {
        let header = ["STATE", "NAME", "ADDRESS", "HTTP", "RECORDS", "HINTS", "RING", "LAST HEARD"]
        let rows = status.members.map { member in
            [
                member.state.rawValue, member.name + (member.isSelf ? " *" : ""), member.address,
                member.http ?? "-", member.records.map(String.init) ?? "-", String(member.hintsPending),
                String(format: "%.1f%%", member.ringShare * 100), Self.lastHeard(member),
            ]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        let lines = ([header] + rows).map { cells in
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return "cluster as seen by \(status.node) (* this node)\n" + lines.joined(separator: "\n") + "\n"
    }

    private static func lastHeard(_ member: ClusterStatus.Member) -> String {
        if member.isSelf { return "-" }
        guard let seconds = member.lastHeardSeconds else { return "never" }
        return String(format: "%.1fs ago", seconds)
    }
}
