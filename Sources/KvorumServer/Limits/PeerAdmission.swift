import Logging
import NIOCore

extension PeerTransport.Limits {
    /// These limits with the node's settings applied (docs/limits.md).
    mutating func apply(_ limits: NodeLimits) {
        maximumFrameSize = limits.maxFrameBytes
        queueLimit = limits.peerQueueLimit
        outboundBufferBytes = limits.peerBufferBytes
        maximumAcceptedConnections = limits.maxPeerConnections
        helloTimeout = limits.requestHeaderTimeout
    }

    /// The write buffer bounds of a peer connection: it stops being
    /// writable past `outboundBufferBytes` and becomes so again below half.
    var writeBufferWaterMark: ChannelOptions.Types.WriteBufferWaterMark {
        .init(low: outboundBufferBytes / 2, high: outboundBufferBytes)
    }
}

/// The peer connections a node accepts: at most
/// `maximumAcceptedConnections` open at once, each closed unless it has said
/// hello within `helloTimeout`, so connections that never speak cannot fill
/// the peer port. Connections this node dials are not counted. Lives on the
/// node's loop.
final class PeerAdmission: @unchecked Sendable {
    private let limits: PeerTransport.Limits
    private let logger: Logger
    private let metrics = LimitMetrics.shared
    private var open = 0

    init(limits: PeerTransport.Limits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    /// Admits an accepted connection, or says to close it. `greeted` tells,
    /// once the hello timeout passes, whether the connection said hello.
    func admit(_ channel: Channel, greeted: @escaping @Sendable () -> Bool) -> Bool {
        guard open < limits.maximumAcceptedConnections else {
            refuse(
                channel, .maxPeerConnections,
                detail: "\(open) accepted peer connections open, the limit (--max-peer-connections)")
            return false
        }
        open += 1
        metrics.peerConnectionsOpen.set(Int64(open))
        let deadline = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(limits.helloTimeout * 1e9))) {
            guard channel.isActive, !greeted() else { return }
            self.refuse(
                channel, .noHello, detail: "no hello within \(self.limits.helloTimeout) s (--request-header-timeout)")
            channel.close(promise: nil)
        }
        channel.closeFuture.whenComplete { _ in
            deadline.cancel()
            self.open -= 1
            self.metrics.peerConnectionsOpen.set(Int64(self.open))
        }
        return true
    }

    private func refuse(_ channel: Channel, _ reason: PeerAdmissionRefusal, detail: String) {
        metrics.peerRefused(reason)
        logger.warning(
            "closing accepted peer connection",
            metadata: ["reason": "\(detail)", "remote": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
    }
}
