import NIOCore
import NIOPosix

extension ServerBootstrap {
    /// A bootstrap for one of the node's listening ports (HTTP, binary,
    /// peer): the port may be bound again at once after a restart, the
    /// kernel holds `NodeLimits.listenBacklog` handshaken connections until
    /// the loop accepts them, and small answers leave without waiting on
    /// Nagle's algorithm.
    static func listener(on loop: any EventLoop) -> ServerBootstrap {
        ServerBootstrap(group: loop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: NodeLimits.listenBacklog)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    }
}
