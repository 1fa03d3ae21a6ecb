import KvorumCore

/// The cluster as one node sees it: what `GET /status` answers.
struct ClusterStatusReport {
    var node: String
    var readiness: Readiness
    /// The node's clock (seconds since it started).
    var time: Double
    var members: [MemberStatus]

    /// The JSON of `/status` (docs/http-api.md); the web console reads it,
    /// so its shape stays as documented. Unknown fields are `null`.
    var json: JSON {
        let ready: Bool
        if case .ready = readiness { ready = true } else { ready = false }
        return [
            "node": .string(node), "ready": .bool(ready), "time": .double(Self.rounded(time, 3)),
            "members": .array(members.map(Self.member)),
        ]
    }

    private static func member(_ m: MemberStatus) -> JSON {
        [
            "name": .string(m.name), "state": .string(m.state.rawValue), "address": .string(m.address),
            "http": m.httpAddress.map(JSON.string) ?? .null,
            "records": m.records.map { .int(Int64($0)) } ?? .null,
            "hintsPending": .int(Int64(m.hintsPending)), "ringShare": .double(rounded(m.ringShare, 4)),
            "lastHeardSeconds": m.lastHeardSeconds.map { .double(rounded($0, 3)) } ?? .null,
            "rttMs": m.roundTripSeconds.map { .double(rounded($0 * 1000, 3)) } ?? .null,
            "self": .bool(m.isSelf),
        ]
    }

    private static func rounded(_ value: Double, _ digits: Int) -> Double {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        return (value * scale).rounded() / scale
    }
}

extension Readiness {
    /// The JSON of `/ready`: `{"ready":true}`, or false with the reason.
    var json: JSON {
        switch self {
        case .ready: ["ready": true]
        case .notReady(let reason): ["ready": false, "reason": .string(reason)]
        }
    }
}
