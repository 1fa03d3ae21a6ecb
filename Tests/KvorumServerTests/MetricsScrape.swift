import Foundation
import KvorumClient
import KvorumTestKit

/// One scrape of a node's `/metrics`: each sample by its series (name and
/// labels), and the families that carry HELP text. A small reader of the
/// text format for assertions; `PrometheusParser` checks the format itself.
struct MetricsScrape {
    /// A sample's name and labels, e.g. `kvorum_client_requests_total` with
    /// `op=get, outcome=ok`.
    struct Series: Hashable {
        var name: String
        var labels: [String: String]
    }

    let text: String
    private(set) var samples: [Series: Double] = [:]
    /// Families with a `# HELP` line.
    private(set) var documented: Set<String> = []

    init(text: String) {
        self.text = text
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") {
                documented.insert(String(line.dropFirst(7).prefix { $0 != " " }))
                continue
            }
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "),
                let value = Double(line[line.index(after: space)...])
            else { continue }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else {
                samples[Series(name: String(series), labels: [:])] = value
                continue
            }
            var labels: [String: String] = [:]
            // Label values in these tests hold no `,` or `"`.
            for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",")
            {
                let parts = pair.split(separator: "=", maxSplits: 1)
                labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
            }
            samples[Series(name: String(series[..<brace]), labels: labels)] = value
        }
    }

    /// Scrapes `node` once.
    static func of(_ node: LocalNode) async throws -> MetricsScrape {
        let response = try await node.client().send(.metrics)
        return MetricsScrape(text: String(decoding: response.body, as: UTF8.self))
    }

    /// The sample of one series (0 when it is not there).
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
        samples[Series(name: name, labels: labels)] ?? 0
    }

    /// The sum of every sample of `name` whose labels include `labels`.
    func sum(_ name: String, where labels: [String: String] = [:]) -> Double {
        samples.filter { series, _ in
            series.name == name && labels.allSatisfy { series.labels[$0.key] == $0.value }
        }.values.reduce(0, +)
    }

    /// The metric families in the text (`# TYPE` lines).
    var families: Set<String> {
        Set(
            text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map {
                String($0.dropFirst(7).prefix { $0 != " " })
            })
    }
}

/// Prometheus's own parser (`prometheus_client.parser`, Python) over a
/// scrape: the families it read and those without HELP text, or why it
/// could not read them.
enum PrometheusParser {
    static let script = """
        import sys
        try:
            from prometheus_client.parser import text_string_to_metric_families
        except ImportError:
            print("the Python module prometheus_client is missing: pip install prometheus_client", file=sys.stderr)
            sys.exit(3)
        families = list(text_string_to_metric_families(sys.stdin.read()))
        for family in families:
            print(family.name, family.type, "help" if family.documentation else "nohelp", len(family.samples))
        """

    struct Family: Equatable {
        var name: String
        var type: String
        var hasHelp: Bool
        var samples: Int
    }

    /// - Throws: what the parser said when it refused the text or is missing.
    static func parse(_ text: String) throws -> [Family] {
        let result = try ChildProcess.run(
            URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script], input: text, deadline: 60)
        guard result.status == 0 else {
            throw ClusterError(description: "prometheus_client could not parse /metrics: \(result.stderr)")
        }
        return result.stdout.split(separator: "\n").map { line in
            let parts = line.split(separator: " ")
            return Family(
                name: String(parts[0]), type: String(parts[1]), hasHelp: parts[2] == "help", samples: Int(parts[3])!)
        }
    }
}
