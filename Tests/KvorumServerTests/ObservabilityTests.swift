import Foundation
import KvorumCore
import KvorumRouting
import Logging
import NIOHTTP1
import Prometheus
import Testing

@testable import KvorumServer

/// The node's log lines (`NodeLogHandler`) and the labels of its request
/// metrics (`RequestOperation`, `RequestOutcome`).
struct ObservabilityTests {
    /// Collects the lines a handler writes.
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        var all: [String] { lock.withLock { lines } }
        func write(_ line: String) { lock.withLock { lines.append(line) } }
    }

    /// A logger on a handler with a fixed clock (2026-11-30T21:05:49.042Z).
    static func logger(_ format: LogFormat, level: Logger.Level = .info, into lines: Lines) -> Logger {
        let handler = NodeLogHandler(
            level: level, format: format, clock: { Date(timeIntervalSince1970: 1_796_072_749.042) },
            write: { lines.write($0) })
        var logger = Logger(label: "kvorum") { _ in handler }
        logger[metadataKey: "node"] = "n1"
        return logger
    }

    /// JSON: one object per line with time, level, message, the logger's
    /// `node` and each event field as its own key; quotes and newlines are
    /// escaped, lists stay lists.
    @Test func jsonLinesCarryEveryFieldAsAKey() throws {
        let lines = Lines()
        Self.logger(.json, into: lines).warning(
            "peer suspected", metadata: ["peer": "n2", "detail": "said \"no\"\nthen left", "members": ["n1", "n3"]])
        #expect(lines.all.count == 1 && lines.all[0].hasSuffix("}\n") && lines.all[0].filter { $0 == "\n" }.count == 1)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(lines.all[0].utf8)) as? [String: Any])
        #expect(object["time"] as? String == "2026-11-30T21:05:49.042Z")
        #expect(object["level"] as? String == "warning")
        #expect(object["message"] as? String == "peer suspected")
        #expect(object["node"] as? String == "n1")
        #expect(object["peer"] as? String == "n2")
        #expect(object["detail"] as? String == "said \"no\"\nthen left")
        #expect(object["members"] as? [String] == ["n1", "n3"])
    }

    /// Text: time, level, message, then `key=value` fields in key order,
    /// values with spaces or quotes quoted.
    @Test func textLinesListFieldsInKeyOrder() {
        let lines = Lines()
        Self.logger(.text, into: lines).notice("member joined", metadata: ["peer": "n2", "address": "10.0.0.2:7700 x"])
        #expect(
            lines.all == [
                "2026-11-30T21:05:49.042Z notice member joined address=\"10.0.0.2:7700 x\" node=n1 peer=n2\n"
            ])
    }

    /// The level is the least one written: below it, nothing.
    @Test func levelFiltersEvents() {
        let lines = Lines()
        let logger = Self.logger(.text, level: .warning, into: lines)
        logger.info("quiet")
        logger.debug("quieter")
        logger.error("loud")
        #expect(lines.all.count == 1 && lines.all[0].contains(" error loud node=n1"))
    }

    /// Each answer status maps to one outcome label.
    @Test func statusesMapToOutcomes() {
        let cases: [(HTTPResponseStatus, RequestOutcome)] = [
            (.ok, .ok), (.accepted, .ok), (.notFound, .notFound), (.badRequest, .badRequest),
            (.uriTooLong, .badRequest), (.unauthorized, .unauthorized), (.forbidden, .unauthorized),
            (.conflict, .conflict), (.payloadTooLarge, .tooLarge), (.serviceUnavailable, .unavailable),
            (.internalServerError, .error), (.gatewayTimeout, .error),
        ]
        for (status, outcome) in cases { #expect(RequestOutcome(status: status) == outcome, "\(status)") }
        #expect(RequestOutcome.unavailable.rawValue == "unavailable" && RequestOutcome.notFound.rawValue == "not_found")
    }

    /// Data operations are measured under their route's name; monitoring
    /// endpoints are not measured at all.
    @Test func routesMapToOperations() {
        #expect(RequestOperation(.getKey("k")) == .get && RequestOperation(.putKey("k")) == .put)
        #expect(RequestOperation(.deleteKey("k")) == .delete && RequestOperation(.listKeys) == .list)
        for route in [Route.getKey("k"), .putKey("k"), .deleteKey("k"), .listKeys, .lookup("k"), .join, .remove] {
            #expect(RequestOperation(route)?.rawValue == route.name)
        }
        for route in [Route.metrics, .health, .stats, .members] { #expect(RequestOperation(route) == nil) }
    }

    /// Per-target hint families exist before the first hint, escape label
    /// values, and keep a drained target at zero.
    @Test func hintFamiliesRenderPerTarget() {
        let metrics = ObservationMetrics(registry: PrometheusCollectorRegistry())
        #expect(metrics.text(pending: []).contains("# HELP kvorum_hints_pending "))
        metrics.record(.hintStored(target: "n\"3"))
        metrics.record(.hintStored(target: "n\"3"))
        #expect(metrics.text(pending: [("n\"3", 2)]).contains("kvorum_hints_pending{target=\"n\\\"3\"} 2\n"))
        metrics.record(.hintsHandedOff(target: "n\"3", keys: 2))
        let drained = metrics.text(pending: [])
        #expect(drained.contains("kvorum_hints_pending{target=\"n\\\"3\"} 0\n"))
        #expect(drained.contains("kvorum_hints_stored_total{target=\"n\\\"3\"} 2\n"))
        #expect(drained.contains("kvorum_hints_handed_off_total{target=\"n\\\"3\"} 2\n"))
    }
}
