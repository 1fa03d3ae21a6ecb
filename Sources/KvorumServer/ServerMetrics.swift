import Metrics
import Prometheus

/// The process-wide metrics system: swift-metrics backed by a Prometheus
/// registry, rendered by `GET /metrics`.
public enum ServerMetrics {
    /// Bootstraps swift-metrics (once per process) and returns the renderer.
    public static func bootstrap() -> @Sendable () -> String {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return { registry.emitToString() }
    }
}
