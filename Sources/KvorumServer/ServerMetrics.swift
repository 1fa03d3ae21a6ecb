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
}
