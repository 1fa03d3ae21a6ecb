import KvorumRouting
import NIOConcurrencyHelpers
import NIOHTTP1
import Prometheus

/// The client operation of a request, the `op` label of the request metrics.
/// Only the operations a client asks of the store are measured; monitoring
/// endpoints (`/metrics`, `/health`, `/ready`, `/status`, `/stats`, `/members`, `/ui`) would only measure
/// the scraper.
enum RequestOperation: String, CaseIterable, Sendable {
    case get, put, delete, list, lookup, local, join, leave, remove

    /// The operation of a routed request, or nil for a monitoring endpoint.
    init?(_ route: Route) {
        switch route {
        case .getKey: self = .get
        case .putKey: self = .put
        case .deleteKey: self = .delete
        case .listKeys: self = .list
        case .lookup: self = .lookup
        case .localCopy: self = .local
        case .join: self = .join
        case .leave: self = .leave
        case .remove: self = .remove
        case .members, .stats, .metrics, .health, .ready, .status, .console: return nil
        }
    }
}

/// How a request ended, the `outcome` label of the request metrics, read
/// from the status of its answer (docs/http-api.md lists which failure
/// answers which status).
enum RequestOutcome: String, CaseIterable, Sendable {
    /// 2xx: read, written, accepted.
    case ok
    /// 404: a read or DELETE found no live value.
    case notFound = "not_found"
    /// 400 or 414: a malformed request (a quorum that is no number, a damaged
    /// context, a key too long).
    case badRequest = "bad_request"
    /// 401 or 403: missing or unknown credentials, or a role too low.
    case unauthorized
    /// 409: a blind write past `--sibling-limit`.
    case conflict
    /// 413: a value larger than `--max-value-bytes`.
    case tooLarge = "too_large"
    /// 503: the quorum was not reached, or the node cannot serve (joining,
    /// leaving, shutting down, `--max-pending-operations`).
    case unavailable
    /// Anything else (5xx other than 503): a fault of the node.
    case error

    init(status: HTTPResponseStatus) {
        switch status.code {
        case 200..<300: self = .ok
        case 404: self = .notFound
        case 400, 414: self = .badRequest
        case 401, 403: self = .unauthorized
        case 409: self = .conflict
        case 413: self = .tooLarge
        case 503: self = .unavailable
        default: self = .error
        }
    }
}

/// Counts and times client requests by operation and outcome:
/// `kvorum_client_requests_total` and `kvorum_client_request_duration_seconds`.
/// The successful reads, writes, deletes and listings are there from the
/// start (zeros), so both families exist before the first request; other
/// series appear with their first request.
final class RequestMetrics: Sendable {
    static let shared = RequestMetrics(registry: ServerMetrics.registry)

    /// Bucket bounds from 50 µs to 10 s: a read on loopback takes 0.1–1 ms,
    /// a write with `fsync` a few ms, one that waits for a stand-in up to the
    /// request timeout.
    static let durationBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
        .seconds(10),
    ]

    private static var count: MetricNameDescriptor {
        ServerMetrics.named(
            "kvorum_client_requests_total", help: "Client requests answered, by operation (op) and outcome.")
    }
    private static var duration: MetricNameDescriptor {
        ServerMetrics.named(
            "kvorum_client_request_duration_seconds",
            help: "Time from a client request's arrival to its answer, by operation (op) and outcome.")
    }

    private struct SeriesKey: Hashable {
        var op: RequestOperation
        var outcome: RequestOutcome
    }

    private struct Series {
        var count: Counter
        var duration: DurationHistogram
    }

    private let registry: PrometheusCollectorRegistry
    /// The series made so far. The registry would hand back the same ones,
    /// but only after building their label strings and checking the metric
    /// names again, on every request.
    private let made = NIOLockedValueBox<[SeriesKey: Series]>([:])

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        for op in [RequestOperation.get, .put, .delete, .list] {
            _ = series(op, .ok)
        }
    }

    /// Records one answered request.
    func record(_ op: RequestOperation, _ outcome: RequestOutcome, duration: Duration) {
        let series = series(op, outcome)
        series.count.increment()
        series.duration.record(duration)
    }

    /// The series of one operation and outcome, made at its first request.
    private func series(_ op: RequestOperation, _ outcome: RequestOutcome) -> Series {
        let key = SeriesKey(op: op, outcome: outcome)
        return made.withLockedValue { made in
            if let series = made[key] { return series }
            let labels = [("op", op.rawValue), ("outcome", outcome.rawValue)]
            let series = Series(
                count: registry.makeCounter(descriptor: Self.count, labels: labels),
                duration: registry.makeDurationHistogram(
                    descriptor: Self.duration, labels: labels, buckets: Self.durationBuckets))
            made[key] = series
            return series
        }
    }
}
