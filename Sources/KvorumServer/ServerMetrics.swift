import Metrics
import Prometheus

/// The process-wide metrics system: swift-metrics backed by a Prometheus
/// registry, rendered by `GET /metrics`.
public enum ServerMetrics {
    /// The process's registry. Metrics that need HELP text are made on it
    /// directly; the rest through swift-metrics once `bootstrap()` ran.
    static let registry = PrometheusCollectorRegistry()

    /// Bootstraps swift-metrics (once per process) and returns the renderer.
    public static func bootstrap() -> @Sendable () -> String {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return { registry.emitToString() }
    }

    /// A metric's name with its HELP text: every metric this node exports has one.
    static func named(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// One counter family with a series per value of `label`, every series
    /// made at once (so each is exported at 0 before its first event).
    static func counters<Value: Hashable>(
        _ name: String, help: String, label: String, values: [Value], text: (Value) -> String,
        on registry: PrometheusCollectorRegistry
    ) -> [Value: Prometheus.Counter] {
        var counters: [Value: Prometheus.Counter] = [:]
        for value in values {
            counters[value] = registry.makeCounter(
                descriptor: named(name, help: help), labels: [(label, text(value))])
        }
        return counters
    }

    /// `counters(…)` for every case of a string-valued enum, labelled by its raw value.
    static func counters<Value: CaseIterable & Hashable & RawRepresentable>(
        _ name: String, help: String, label: String, cases: Value.Type, on registry: PrometheusCollectorRegistry
    ) -> [Value: Prometheus.Counter] where Value.RawValue == String {
        counters(name, help: help, label: label, values: Array(cases.allCases), text: { $0.rawValue }, on: registry)
    }
}
