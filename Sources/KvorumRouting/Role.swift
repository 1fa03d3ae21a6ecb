/// What a client may do on a node's HTTP API. Each role includes every role
/// below it: `monitor` < `read` < `write` < `admin`.
///
/// - `monitor`: the node's own state (`/stats`, `/metrics`, `/members`);
/// - `read`: keys (`GET /kv/{key}`, `GET /kv`, `/lookup/{key}`);
/// - `write`: `PUT` and `DELETE` of keys;
/// - `admin`: membership (`/join`, `/leave`, `/remove`) and `/admin/local/{key}`.
public enum Role: String, CaseIterable, Comparable, Sendable {
    case monitor
    case read
    case write
    case admin

    /// Whether a client holding this role may use what `needed` allows.
    public func includes(_ needed: Role) -> Bool { needed <= self }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

    private var rank: Int {
        switch self {
        case .monitor: 0
        case .read: 1
        case .write: 2
        case .admin: 3
        }
    }
}
