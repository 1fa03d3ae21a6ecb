import Glibc
import Logging

/// The process's open-file limit (`RLIMIT_NOFILE`). A node raises its soft
/// limit to the hard one at start, so that `--max-connections` and
/// `--max-peer-connections`, not the file descriptor table, decide when
/// connections are refused.
public enum FileDescriptorLimit {
    /// Descriptors a node needs besides its connections: the store, its
    /// journal, listeners, logs.
    static let reserve = 64

    /// Raises the soft limit to the hard limit and logs both; warns when
    /// even the hard limit is below what `limits` may open.
    public static func raise(for limits: NodeLimits, logger: Logger) {
        var limit = rlimit()
        guard getrlimit(openFiles, &limit) == 0 else {
            logger.warning("cannot read the open-file limit (RLIMIT_NOFILE)", metadata: ["errno": "\(errno)"])
            return
        }
        let before = limit.rlim_cur
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            if setrlimit(openFiles, &limit) != 0 {
                logger.warning("cannot raise the open-file limit", metadata: ["errno": "\(errno)"])
                limit.rlim_cur = before
            }
        }
        logger.info(
            "open-file limit", metadata: ["soft": "\(limit.rlim_cur)", "was": "\(before)", "hard": "\(limit.rlim_max)"])
        let needed = limits.maxConnections + limits.maxPeerConnections * 2 + reserve
        if limit.rlim_cur < rlim_t(needed) {
            logger.warning(
                """
                the open-file limit is below what the connection limits allow: new connections may fail with \
                EMFILE before --max-connections is reached; raise the hard limit (LimitNOFILE= in systemd)
                """,
                metadata: ["limit": "\(limit.rlim_cur)", "needed": "\(needed)"])
        }
    }

    /// The resource `RLIMIT_NOFILE`, as `getrlimit` takes it on Glibc.
    private static var openFiles: __rlimit_resource_t { __rlimit_resource_t(UInt32(RLIMIT_NOFILE.rawValue)) }
}
