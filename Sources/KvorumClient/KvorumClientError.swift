import Foundation
import NIOHTTP1

/// A request that did not get the answer it asked for: either the node
/// answered with an error status (`status` set, `message` the server's
/// `{"error": …}` text) or no answer came at all (`status` nil: refused,
/// timed out, unknown host).
public struct KvorumClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status the node answered with; nil when it could not be reached.
    public var status: Int?
    /// What went wrong, in the server's words when it gave any.
    public var message: String

    /// An error with the given status and message.
    public init(status: Int?, message: String) {
        self.status = status
        self.message = message
    }

    /// Whether no HTTP answer came (the node is down, unreachable or too slow).
    public var isUnreachable: Bool { status == nil }

    /// The message, with the status when there is one.
    public var description: String {
        status.map { "\(message) (HTTP \($0))" } ?? message
    }

    /// The error of an answer with an error status: the body's `error` field,
    /// else its text, else the status's reason phrase.
    init(_ response: HTTPResponse) {
        struct Body: Decodable { var error: String }
        if let body = try? JSONDecoder().decode(Body.self, from: response.body) {
            self.init(status: response.status, message: body.error)
        } else {
            let text = String(decoding: response.body.prefix(500), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let reason = HTTPResponseStatus(statusCode: response.status).reasonPhrase
            self.init(status: response.status, message: text.isEmpty ? reason : text)
        }
    }

    /// The error of a request to `url` that got no HTTP answer.
    init(failure: HTTPExchange.Failure, url: URL, timeout: Double) {
        self.init(
            status: nil,
            message: "cannot reach the Kvorum node at \(url.absoluteString): "
                + Self.reason(failure, url: url, timeout: timeout))
    }

    /// Why a request to `url` got no HTTP answer, in a few words.
    static func reason(_ failure: HTTPExchange.Failure, url: URL, timeout: Double) -> String {
        switch failure {
        case .refused: return "connection refused"
        case .connectTimedOut: return "no connection within \(timeout.formatted()) s"
        case .timedOut: return "no answer within \(timeout.formatted()) s"
        case .unknownHost: return "unknown host"
        case .connectFailed(let description): return description
        case .connectionLost: return "the connection was lost" + httpsHint(url)
        case .notHTTP: return "not an HTTP answer" + httpsHint(url)
        case .tls(let explained): return explained
        case .other(let description): return description
        }
    }
}

extension KvorumClientError {
    /// A node serving HTTPS closes a plain-HTTP connection (or answers it
    /// with a TLS alert): say what to try.
    fileprivate static func httpsHint(_ url: URL) -> String {
        url.scheme == "http" ? " (if the node serves HTTPS, use an https:// URL)" : ""
    }
}

extension Double {
    /// The number without a trailing `.0` when it is whole (`5`, `0.5`).
    fileprivate func formatted() -> String {
        rounded() == self && abs(self) < 1e15 ? String(Int(self)) : String(self)
    }
}
