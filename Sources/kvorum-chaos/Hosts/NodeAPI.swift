import Foundation

import struct KvorumBench.ClientSecurity
import class KvorumBench.Connection
import struct KvorumBench.Endpoint

/// The HTTP calls the kit makes to one node (docs/http-api.md), over one
/// keep-alive connection with a short timeout. One thread uses it at a time.
final class NodeAPI {
    /// The answer to a read or a write: what the node said, or why there was
    /// no answer.
    enum Answer {
        /// The node answered with this status and JSON body.
        case answered(status: Int, body: [String: Any], context: String?)
        /// No answer: the connection failed or timed out (the operation may
        /// or may not have taken effect).
        case noAnswer(String)
    }

    private let connection: Connection

    init(_ endpoint: Endpoint, timeout: Double, security: ClientSecurity = .plain) {
        connection = Connection(to: endpoint, timeout: timeout, security: security)
    }

    /// `GET /kv/{key}?r=`, in the JSON form (every sibling as text).
    func get(_ key: String, r: Int) -> Answer {
        call("GET", "/kv/\(Self.escape(key))?r=\(r)", headers: [("Accept", "application/json")])
    }

    /// `PUT /kv/{key}?w=` with the context of a read, if any.
    func put(_ key: String, value: String, context: String?, w: Int) -> Answer {
        let headers = context.map { [("X-Kvorum-Context", $0)] } ?? []
        return call("PUT", "/kv/\(Self.escape(key))?w=\(w)", headers: headers, body: Array(value.utf8))
    }

    /// `GET /admin/local/{key}`: the node's own copy, no quorum.
    func local(_ key: String) -> Answer {
        call("GET", "/admin/local/\(Self.escape(key))")
    }

    /// `GET /lookup/{key}`: the names of the key's replicas.
    func replicas(of key: String) -> [String]? {
        guard case .answered(200, let body, _) = call("GET", "/lookup/\(Self.escape(key))"),
            let replicas = body["replicas"] as? [[String: Any]]
        else { return nil }
        return replicas.compactMap { $0["name"] as? String }
    }

    /// `GET /members`: the names of the members this node sees.
    func members() -> [String]? {
        guard case .answered(200, let body, _) = call("GET", "/members"),
            let members = body["members"] as? [[String: Any]]
        else { return nil }
        return members.compactMap { $0["name"] as? String }
    }

    /// `POST /remove`: takes the dead member `name` out of the ring; nil on
    /// success, else why not.
    func remove(_ name: String) -> String? {
        switch call("POST", "/remove", body: Array(#"{"name":"\#(name)"}"#.utf8)) {
        case .answered(let status, _, _) where (200..<300).contains(status): return nil
        case .answered(let status, let body, _): return "HTTP \(status): \(body["error"] as? String ?? "")"
        case .noAnswer(let why): return why
        }
    }

    /// Whether `GET /health` answers.
    func healthy() -> Bool {
        if case .answered(200, _, _) = call("GET", "/health") { return true }
        return false
    }

    /// Whether `GET /ready` answers 200: the node can coordinate.
    func ready() -> Bool {
        if case .answered(200, _, _) = call("GET", "/ready") { return true }
        return false
    }

    private func call(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [])
        -> Answer
    {
        do {
            let response = try connection.http(method, path, headers: headers, body: body)
            let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
            return .answered(status: response.status, body: json, context: response.header("x-kvorum-context"))
        } catch {
            return .noAnswer("\(error)")
        }
    }

    /// Percent-encodes a key for the path (the workload's keys are plain,
    /// but nothing else should reach the path unescaped).
    private static func escape(_ key: String) -> String {
        key.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/")))
            ?? key
    }
}
