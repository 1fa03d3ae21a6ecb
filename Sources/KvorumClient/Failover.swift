import Foundation

/// Whether a request may go to another node after one node failed to
/// serve it.
public enum Repetition: Sendable, Equatable {
    /// A read: asking another node after a timeout or a lost connection does
    /// no harm, whether or not the first node got the request.
    case harmless
    /// A write (or a membership change): executed twice, a blind write
    /// would leave two siblings. Another node gets it only when the first
    /// surely did nothing: the connection was never made, or the node
    /// answered 503 with `Retry-After` (refused before handling it).
    case onlyIfUndone
}

extension Endpoint {
    /// `GET` requests are reads (`.harmless`); every other method changes
    /// something (`.onlyIfUndone`).
    public var repetition: Repetition {
        target.method == "GET" ? .harmless : .onlyIfUndone
    }
}

/// Sends one request to a list of nodes in order until one serves it: the
/// CLI's `--nodes` (docs/cli.md, "Several nodes").
///
/// A node that serves the request ends the list, and so does an error
/// answer that any node would give (400, 404, 409, 413, …): it is the
/// answer. A node that could not serve it is a `Failure`; the next node is
/// asked when the request's `Repetition` allows it after that failure.
/// When no node is left, or a write may have reached the node that failed,
/// the error names every node asked and why each failed, in order.
struct Failover {
    /// Why one node did not serve the request.
    struct Failure: Sendable, Equatable {
        /// What the failure says about whether the node acted on the request.
        enum Kind: Sendable, Equatable {
            /// The request never reached the node (no connection, failed
            /// TLS handshake).
            case undelivered
            /// The node answered 503 with `Retry-After`: it refused the
            /// request before handling it (overloaded).
            case declined
            /// The node answered 503 without `Retry-After` (quorum not
            /// reached, not a member, shutting down): a write may have
            /// been stored on some replicas.
            case unavailable
            /// Sent, but no whole answer came (timeout, lost connection,
            /// not HTTP): the node may have acted on it.
            case unanswered
        }

        var kind: Kind
        /// Why, in a few words ("connection refused", "HTTP 503: …").
        var reason: String
        /// The error a client of this one node throws.
        var error: KvorumClientError

        /// Whether a request of `repetition` may go to the next node after this failure.
        func allowsNextNode(for repetition: Repetition) -> Bool {
            switch (kind, repetition) {
            case (_, .harmless), (.undelivered, .onlyIfUndone), (.declined, .onlyIfUndone): return true
            case (.unavailable, .onlyIfUndone), (.unanswered, .onlyIfUndone): return false
            }
        }
    }

    /// What one node did with the request.
    enum Outcome: Sendable {
        /// The answer the request asked for.
        case served(HTTPResponse)
        /// An error answer another node would give too.
        case refused(KvorumClientError)
        /// The node could not serve it.
        case failed(Failure)
    }

    /// The nodes, in the order they are asked (at least one).
    let nodes: [URL]
    /// Whether the request may be repeated on another node.
    let repetition: Repetition

    /// Asks `attempt` for each node in turn, as the rules above say.
    ///
    /// - Returns: the first served answer.
    /// - Throws: the first error answer any node would give, else the
    ///   error of the failures (see `error(after:)`).
    func run(_ attempt: (URL) async -> Outcome) async throws(KvorumClientError) -> HTTPResponse {
        var failures: [(node: URL, failure: Failure)] = []
        for node in nodes {
            switch await attempt(node) {
            case .served(let answer): return answer
            case .refused(let error): throw error
            case .failed(let failure):
                failures.append((node, failure))
                if !failure.allowsNextNode(for: repetition) { throw error(after: failures) }
            }
        }
        throw error(after: failures)
    }

    /// The error after the failures on the nodes asked: with one node
    /// given, its own error; else every node asked and why, in order, and
    /// when nodes were left unasked, why. Its status is nil (unreachable)
    /// when no node gave an HTTP answer, else the last answer's status.
    func error(after failures: [(node: URL, failure: Failure)]) -> KvorumClientError {
        guard nodes.count > 1, let last = failures.last else {
            return failures.last?.failure.error ?? KvorumClientError(status: nil, message: "no node to ask")
        }
        let tried = failures.map { "\($0.node.absoluteString) (\($0.failure.reason))" }.joined(separator: ", ")
        let status = failures.last { $0.failure.error.status != nil }?.failure.error.status
        if failures.count < nodes.count {
            return KvorumClientError(
                status: status,
                message: "tried \(tried); the request may have reached \(last.node.absoluteString), so it is not "
                    + "sent to another node (a write done twice leaves two siblings): read the key to see whether "
                    + "it was done")
        }
        let what =
            status == nil ? "cannot reach any of the \(nodes.count) Kvorum nodes" : "no Kvorum node could serve it"
        return KvorumClientError(status: status, message: "\(what): tried \(tried)")
    }
}
