/// Reads a request's method and request target (`/kv/a%2Fb?w=2`) into a
/// `RoutedRequest` or a `RoutingError`. Pure: no I/O, no NIO, no
/// Foundation, so the HTTP server and a fuzzer run the same code.
///
/// The first path segment names the endpoint; `/kv/`, `/lookup/` and
/// `/admin/local/` are followed by one percent-encoded key, which may
/// itself hold (encoded or bare) slashes. A key is checked before the
/// method, so `POST /kv/%FF` is a 400, not a 405.
public enum RequestRouter {
    static let badKey = "the key must be non-empty, percent-encoded UTF-8"

    /// What follows `/admin/` on the path of a local-copy read.
    private static let localPrefix = "local/"

    public static func route(method: String, target: String) -> Result<RoutedRequest, RoutingError> {
        let (path, query) = splitTarget(target)
        let (first, restOfPath) = endpoint(path)
        let rest = restOfPath.map(String.init) ?? ""
        let hasRest = restOfPath != nil
        func routed(_ route: Route) -> Result<RoutedRequest, RoutingError> {
            .success(RoutedRequest(route: route, path: path, query: query))
        }
        func only(_ allowed: String, _ route: Route) -> Result<RoutedRequest, RoutingError> {
            guard method == allowed else {
                return .failure(.methodNotAllowed(allowed: [allowed], message: "\(method) is not allowed on \(path)"))
            }
            return routed(route)
        }
        switch (first, hasRest) {
        case ("kv", true):
            guard let key = decodedKey(rest) else { return .failure(.badRequest(message: badKey)) }
            switch method {
            case "GET": return routed(.getKey(key))
            case "PUT": return routed(.putKey(key))
            case "DELETE": return routed(.deleteKey(key))
            default:
                return .failure(
                    .methodNotAllowed(
                        allowed: ["GET", "PUT", "DELETE"], message: "use GET, PUT or DELETE on /kv/{key}"))
            }
        case ("kv", false): return only("GET", .listKeys)
        case ("lookup", true):
            guard let key = decodedKey(rest) else { return .failure(.badRequest(message: badKey)) }
            return only("GET", .lookup(key))
        case ("admin", true):
            guard rest.hasPrefix(localPrefix) else {
                return .failure(
                    .notFound(message: "no such endpoint: \(path) (the admin endpoint is /admin/local/{key})"))
            }
            guard let key = decodedKey(String(rest.dropFirst(localPrefix.count))) else {
                return .failure(.badRequest(message: badKey))
            }
            return only("GET", .localCopy(key))
        case ("members", false): return only("GET", .members)
        case ("join", false): return only("POST", .join)
        case ("leave", false): return only("POST", .leave)
        case ("remove", false): return only("POST", .remove)
        case ("stats", false): return only("GET", .stats)
        case ("metrics", false): return only("GET", .metrics)
        case ("health", false): return only("GET", .health)
        case ("ready", false): return only("GET", .ready)
        case ("status", false): return only("GET", .status)
        case ("ui", false): return only("GET", .console)
        default: return .failure(.notFound(message: "no such endpoint: \(path)"))
        }
    }

    /// The segment after the path's first `/`, and what follows the slash
    /// after it (nil when no slash follows), found on the UTF-8 bytes:
    /// counting the `Character`s of a long key cost more than the rest of
    /// routing.
    static func endpoint(_ path: String) -> (first: String, rest: Substring?) {
        let bytes = path.utf8
        guard let slash = bytes.firstIndex(of: UInt8(ascii: "/")) else { return ("", nil) }
        let start = bytes.index(after: slash)
        guard let next = bytes[start...].firstIndex(of: UInt8(ascii: "/")) else {
            return (String(path[start...]), nil)
        }
        return (String(path[start..<next]), path[bytes.index(after: next)...])
    }

    private static func decodedKey(_ component: String) -> String? {
        guard let key = PercentDecoding.decode(component), !key.isEmpty else { return nil }
        return key
    }

    /// The path and the query parameters of a request target, split on its
    /// UTF-8 bytes (the separators are ASCII). In the query `+` is a space
    /// (form encoding); a parameter whose name does not decode is dropped,
    /// a value that does not decode is kept as sent, and of a repeated name
    /// the last one counts.
    public static func splitTarget(_ target: String) -> (path: String, query: QueryParameters) {
        var bytes = target
        return bytes.withUTF8 { bytes in
            guard let mark = bytes.firstIndex(of: UInt8(ascii: "?")) else { return (target, QueryParameters()) }
            var query = QueryParameters()
            var start = mark + 1
            while start < bytes.endIndex {
                let end = bytes[start...].firstIndex(of: UInt8(ascii: "&")) ?? bytes.endIndex
                defer { start = end + 1 }
                let pair = bytes[start..<end]
                if pair.isEmpty { continue }
                let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
                guard let name = PercentDecoding.decode(plusAsSpace(pair[..<equals])) else { continue }
                let value = equals < pair.endIndex ? plusAsSpace(pair[(equals + 1)...]) : ""
                query.append(name: name, value: PercentDecoding.decode(value) ?? value)
            }
            return (String(decoding: bytes[..<mark], as: UTF8.self), query)
        }
    }

    /// A query component with `+` read as a space.
    private static func plusAsSpace(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> String {
        let plus = UInt8(ascii: "+")
        guard bytes.contains(plus) else { return String(decoding: bytes, as: UTF8.self) }
        return String(decoding: bytes.map { $0 == plus ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }
}

/// Percent-decoding (RFC 3986 §2.1) of one path or query component.
public enum PercentDecoding {
    /// The component with each `%XX` replaced by its byte; nil if a `%` is
    /// not followed by two hex digits or the bytes are not UTF-8.
    public static func decode(_ text: String) -> String? {
        let percent = UInt8(ascii: "%")
        guard text.utf8.contains(percent) else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == percent else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The value of one ASCII hex digit (either case), or nil.
    public static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
