import KvorumContextToken
import KvorumCore

/// The key operations both client APIs serve (HTTP, docs/http-api.md, and
/// the binary protocol, docs/binary-protocol.md), each through the node's
/// one `ClientCommand`, so the two answer alike: what is checked before the
/// core sees a request, what a DELETE without context does, which replies
/// are failures. Callers map the outcomes to their own answers.
struct KeyCommands {
    let node: ServerNode

    /// Why an operation did not succeed.
    enum Failure: Error, Equatable {
        /// Refused before reaching the core: a damaged context, a cart value
        /// that is not UTF-8.
        case badRequest(String)
        /// The core's failure, with its text.
        case failed(String, ClientReply.Failure)
        /// A reply the operation never expects (a fault of the node).
        case unexpected(String)

        init(_ reply: ClientReply) {
            guard case .failed(let message, let failure) = reply else {
                self = .unexpected("unexpected reply from the node: \(ClientResponse(reply).type)")
                return
            }
            self = .failed(message, failure)
        }
    }

    /// A PUT or DELETE the quorum acknowledged: the new version's metadata
    /// and the key's sibling count at the coordinator.
    struct Written: Equatable {
        var metadata: String
        var siblings: Int

        /// The metadata as the APIs hand it out.
        var token: String { ContextToken.encode(metadata) }
    }

    /// What a DELETE did.
    enum Deletion: Equatable {
        case written(Written)
        /// Without a context, the read found no live value: nothing written.
        case absent(ReadResult)
    }

    /// The context a write carries, from its token: nil for none (an empty
    /// token), a failure for a damaged one.
    static func context(token: String?) -> Result<VersionVector?, Failure> {
        guard let token, !token.isEmpty else { return .success(nil) }
        guard let metadata = ContextToken.decode(token), let decoded = try? Metadata.context(from: metadata) else {
            return .failure(.badRequest(ContextToken.damagedMessage))
        }
        return .success(decoded)
    }

    /// A quorum read. The node checks `r`'s range.
    func get(_ key: String, r: Int, done: @escaping (Result<ReadResult, Failure>) -> Void) {
        node.submit(.get(key: Key(key), quorum: r)) { [node] reply in
            guard case .versions(let read) = reply else { return done(.failure(Failure(reply))) }
            node.noteRead(siblings: read.siblings)
            done(.success(read))
        }
    }

    /// A write of any bytes; a cart key (`cart…`, `xcart…`) takes UTF-8
    /// text only, as the cart merge reads its items.
    func put(
        _ key: String, value: Value, w: Int, context: VersionVector?,
        done: @escaping (Result<Written, Failure>) -> Void
    ) {
        if MergePolicy.forKey(Key(key)) != .keepAll, String(validating: value.bytes, as: UTF8.self) == nil {
            return done(.failure(.badRequest("'\(key)' is a cart key (cart… or xcart…): its value must be UTF-8 text")))
        }
        write(.put(key: Key(key), value: value, quorum: w, context: context), done: done)
    }

    /// A tombstone superseding what `context` covers. Without a context the
    /// node reads the key first (quorum `w`) and deletes what that read saw,
    /// as Riak's clients do; a key that read finds no live value of is
    /// `absent` and nothing is written.
    func delete(
        _ key: String, w: Int, context: VersionVector?, done: @escaping (Result<Deletion, Failure>) -> Void
    ) {
        if let context {
            return write(.delete(key: Key(key), quorum: w, context: context)) { done($0.map(Deletion.written)) }
        }
        node.submit(.get(key: Key(key), quorum: w)) { reply in
            guard case .versions(let read) = reply else { return done(.failure(Failure(reply))) }
            guard !read.isAbsent else { return done(.success(.absent(read))) }
            write(.delete(key: Key(key), quorum: w, context: read.context)) { done($0.map(Deletion.written)) }
        }
    }

    private func write(_ command: ClientCommand, done: @escaping (Result<Written, Failure>) -> Void) {
        node.submit(command) { reply in
            guard case .written(let metadata, let siblings) = reply else { return done(.failure(Failure(reply))) }
            done(.success(Written(metadata: metadata, siblings: siblings)))
        }
    }

    /// The sibling count of an answer about `key`; past the warning
    /// threshold also counted in /metrics and logged.
    func notice(_ key: String, siblings: Int) -> SiblingNotice {
        let notice = SiblingNotice(key: key, count: siblings, bounds: node.configuration.node.siblings)
        if notice.warns { node.noteSiblingWarning(notice.warning) }
        return notice
    }
}
