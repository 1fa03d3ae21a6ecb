import Foundation

/// A read in the raw form (`GET /kv/{key}` without `Accept:
/// application/json`): every live sibling's bytes as stored.
public struct RawRead: Sendable, Equatable {
    /// One live sibling.
    public struct Sibling: Sendable, Equatable {
        /// The value's bytes.
        public var bytes: [UInt8]
        /// Its content type as served (`application/octet-stream` when it
        /// was written without one).
        public var contentType: String
        /// The context token of this sibling's version; nil for the one
        /// value of a `200` answer, whose context is `context`.
        public var metadata: String?
    }

    /// The live siblings (none when the key is absent).
    public var siblings: [Sibling]
    /// The context covering every version, tombstones included.
    public var context: String
    /// How many of the key's versions are tombstones.
    public var tombstones: Int
    /// How many versions the key holds (`X-Kvorum-Siblings`).
    public var versions: Int?

    /// The read of an answer to `.getRaw`: 200 one value, 300 a multipart
    /// body of several, 404 none.
    init(_ response: HTTPResponse) throws(KvorumClientError) {
        context = response.header("X-Kvorum-Context") ?? ""
        tombstones = response.header("X-Kvorum-Tombstones").flatMap { Int($0) } ?? 0
        versions = response.header("X-Kvorum-Siblings").flatMap { Int($0) }
        let contentType = response.header("Content-Type") ?? "application/octet-stream"
        switch response.status {
        case 200:
            siblings = [Sibling(bytes: Array(response.body), contentType: contentType, metadata: nil)]
        case 300:
            guard let parts = MultipartParser.parts(of: Array(response.body), contentType: contentType) else {
                throw KvorumClientError(status: 300, message: "the node's multipart answer could not be read")
            }
            siblings = parts.map { part in
                Sibling(
                    bytes: part.body, contentType: part.headers["content-type"] ?? "application/octet-stream",
                    metadata: part.headers["x-kvorum-metadata"])
            }
        case 404:
            siblings = []
        default:
            throw KvorumClientError(response)
        }
    }
}

/// Reads a `multipart/mixed` body (RFC 2046): the parts between the
/// delimiter lines of the boundary that the `Content-Type` names.
public enum MultipartParser {
    /// One part: its header fields (names lowercased) and its bytes.
    public struct Part: Sendable, Equatable {
        public var headers: [String: String]
        public var body: [UInt8]
    }

    /// The parts of `body`, or nil when it is not a well-formed multipart
    /// body of the boundary in `contentType`.
    public static func parts(of body: [UInt8], contentType: String) -> [Part]? {
        let parameters = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parameters.first?.lowercased().hasPrefix("multipart/") == true,
            let boundaryParameter = parameters.first(where: { $0.lowercased().hasPrefix("boundary=") })
        else { return nil }
        var boundary = String(boundaryParameter.dropFirst("boundary=".count))
        if boundary.hasPrefix("\""), boundary.hasSuffix("\""), boundary.count >= 2 {
            boundary = String(boundary.dropFirst().dropLast())
        }
        let delimiter = Array("--\(boundary)".utf8)
        let separator = Array("\r\n".utf8) + delimiter
        guard body.starts(with: delimiter) else { return nil }
        var parts: [Part] = []
        var cursor = delimiter.count
        while true {
            // After a delimiter: `--` closes the body, CRLF starts a part.
            if body[cursor...].starts(with: Array("--".utf8)) { return parts }
            guard body[cursor...].starts(with: Array("\r\n".utf8)) else { return nil }
            cursor += 2
            guard let end = find(separator, in: body, from: cursor) else { return nil }
            guard let part = part(Array(body[cursor..<end])) else { return nil }
            parts.append(part)
            cursor = end + separator.count
        }
    }

    private static func part(_ bytes: [UInt8]) -> Part? {
        // A part with no header fields starts with the blank line.
        if bytes.starts(with: Array("\r\n".utf8)) { return Part(headers: [:], body: Array(bytes.dropFirst(2))) }
        guard let blank = find(Array("\r\n\r\n".utf8), in: bytes, from: 0) else { return nil }
        var headers: [String: String] = [:]
        for line in String(decoding: bytes[..<blank], as: UTF8.self).components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                .trimmingCharacters(in: .whitespaces)
        }
        return Part(headers: headers, body: Array(bytes[(blank + 4)...]))
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        return (start...(haystack.count - needle.count)).first { index in
            haystack[index..<(index + needle.count)].elementsEqual(needle)
        }
    }
}
