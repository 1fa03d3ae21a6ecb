import KvorumContextToken
import KvorumCore

/// Which form of a read the client asked for with its `Accept` header
/// (docs/http-api.md).
enum ReadFormat: Equatable {
    /// The values themselves: one live sibling as its raw bytes, several
    /// as `300 Multiple Choices` with a `multipart/mixed` body.
    case raw
    /// The JSON object of every sibling (text, base64, content types).
    case json

    /// `json` when `accept` lists `application/json` (with no `q=0`),
    /// `raw` for anything else, `*/*` and no header included. Each part is
    /// trimmed of HTTP's optional whitespace (spaces and tabs, RFC 9110
    /// §5.6.3) and compared without regard to ASCII case, on the header's
    /// bytes: splitting and lowercasing it as `String`s cost a JSON read
    /// more than rendering its body.
    init(accept: String?) {
        guard var accept else {
            self = .raw
            return
        }
        self =
            accept.withUTF8 { bytes in bytes.split(separator: UInt8(ascii: ",")).contains(where: Self.isJSON) }
            ? .json : .raw
    }

    /// Whether one element of the list is `application/json` without `q=0`.
    private static func isJSON(_ element: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        let parameters = element.split(separator: UInt8(ascii: ";"))
        guard let type = parameters.first, matches(type, "application/json") else { return false }
        return !parameters.dropFirst().contains { matches($0, "q=0") || matches($0, "q=0.0") }
    }

    /// Whether `part`, trimmed of spaces and tabs, is `lowercase` in any ASCII case.
    private static func matches(_ part: Slice<UnsafeBufferPointer<UInt8>>, _ lowercase: StaticString) -> Bool {
        let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        guard let first = part.firstIndex(where: { !blank($0) }), let last = part.lastIndex(where: { !blank($0) }),
            last - first + 1 == lowercase.utf8CodeUnitCount
        else { return false }
        return zip(
            part[first...last], UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        )
        .allSatisfy { byte, expected in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 == expected : byte == expected
        }
    }
}

/// How a read is answered: the status, body and headers of each form.
struct ReadRendering {
    let key: String
    let read: ReadResult
    /// The token of the read's context, which covers every version.
    let context: String

    init(key: String, read: ReadResult) {
        self.key = key
        self.read = read
        context = ContextToken.encode(Metadata.encode(read.context))
    }

    /// The content type of a value stored without one.
    static let defaultContentType = "application/octet-stream"

    /// The answer in `format`. Tombstones never show as values; when there
    /// are any, `X-Kvorum-Tombstones` says how many, and the context (which
    /// covers them) is always there, so a later write supersedes them.
    func answer(_ format: ReadFormat) -> HTTPAnswer {
        var headers = [("X-Kvorum-Context", context)]
        if read.tombstones > 0 { headers.append(("X-Kvorum-Tombstones", String(read.tombstones))) }
        if format == .json || read.isAbsent {
            var body = jsonBody
            body.append(UInt8(ascii: "\n"))
            return HTTPAnswer(status: read.isAbsent ? .notFound : .ok, body: body, headers: headers)
        }
        if read.values.count == 1 {
            let value = read.values[0]
            return HTTPAnswer(
                status: .ok, body: value.bytes, contentType: value.contentType ?? Self.defaultContentType,
                headers: headers)
        }
        let parts = zip(read.values, read.metadata).map { value, metadata in
            Multipart.Part(
                headers: [
                    ("Content-Type", value.contentType ?? Self.defaultContentType),
                    ("X-Kvorum-Metadata", ContextToken.encode(metadata)),
                ], body: value.bytes)
        }
        let multipart = Multipart(parts: parts)
        return HTTPAnswer(
            status: .multipleChoices, body: multipart.body,
            contentType: "multipart/mixed; boundary=\(multipart.boundary)", headers: headers)
    }

    /// The JSON form: `values` as text (null for a value that is not
    /// UTF-8), `base64` of every value, their `contentTypes` (null when
    /// none was given), each one's `metadata`, the `context` covering them
    /// all and the number of `tombstones`. Written field by field
    /// (`JSONObjectWriter`): a `JSON` object's table and sorting cost more
    /// than the writing.
    var jsonBody: [UInt8] {
        var object = JSONObjectWriter(capacity: 160 + read.values.reduce(0) { $0 + $1.bytes.count * 3 })
        object.field("base64", read.values) { .string(Base64.encode($0.bytes, .standard)) }
        object.field("contentTypes", read.values) { $0.contentType.map(JSON.string) ?? .null }
        object.field("context", .string(context))
        object.field("key", .string(key))
        object.field("metadata", read.metadata) { .string(ContextToken.encode($0)) }
        object.field("tombstones", .int(Int64(read.tombstones)))
        object.field("values", read.values) { $0.exactText.map(JSON.string) ?? .null }
        return object.finished()
    }
}

/// A `multipart/mixed` body (RFC 2046): each part's header fields and
/// bytes, between delimiter lines of a boundary that occurs in no part.
struct Multipart {
    struct Part {
        var headers: [(String, String)]
        var body: [UInt8]
    }

    let parts: [Part]
    /// The boundary: `kvorum-` and a counter, the first that no part's
    /// bytes contain (so no delimiter line can appear inside a part).
    let boundary: String

    init(parts: [Part]) {
        self.parts = parts
        var attempt = 0
        var candidate = "kvorum-0"
        while parts.contains(where: { Self.contains($0.body, Array(candidate.utf8)) }) {
            attempt += 1
            candidate = "kvorum-\(attempt)"
        }
        boundary = candidate
    }

    /// `--boundary CRLF headers CRLF CRLF body CRLF` for each part, then
    /// `--boundary--`.
    var body: [UInt8] {
        var out: [UInt8] = []
        for part in parts {
            out += Array("--\(boundary)\r\n".utf8)
            for (name, value) in part.headers { out += Array("\(name): \(value)\r\n".utf8) }
            out += Array("\r\n".utf8)
            out += part.body
            out += Array("\r\n".utf8)
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return out
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { start in
            haystack[start..<(start + needle.count)].elementsEqual(needle)
        }
    }
}

/// How many versions a key holds, as every read and write answer says it
/// (`X-Kvorum-Siblings`), and the warning past `SiblingBounds.warning`.
struct SiblingNotice {
    let key: String
    let count: Int
    let bounds: SiblingBounds

    /// Whether the count is past the warning threshold.
    var warns: Bool { bounds.warns(count) }

    /// The warning's text: what is wrong and what to do.
    var warning: String { "key \(key) has \(count) siblings; read it and write back with its context" }

    /// `X-Kvorum-Siblings`, and a `Warning: 199` header (RFC 7234's
    /// miscellaneous warning) when the count is past the threshold.
    var headers: [(String, String)] {
        var headers = [("X-Kvorum-Siblings", String(count))]
        if warns { headers.append(("Warning", "199 kvorum \(JSON.string(warning).rendered)")) }
        return headers
    }
}
