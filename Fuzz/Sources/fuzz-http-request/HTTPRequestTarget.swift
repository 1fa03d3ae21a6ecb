import FuzzSupport
import KvorumContextToken
import KvorumCore
import KvorumRouting

/// What the HTTP API reads from a request before any I/O: the method and
/// request target through `RequestRouter` (path, key, query), and the
/// context token (`X-Kvorum-Context` or `?context=`) through `ContextToken`
/// and then `Metadata`. The input is `method`, newline, `target`, newline,
/// `token`; missing parts are empty.
///
/// Nothing may trap, and what parses must agree with its encoders: a routed
/// key is non-empty and routes again from its percent-encoding; a token
/// that decodes is the canonical text of its metadata; metadata that
/// parses renders back to the same context.
@_cdecl("LLVMFuzzerTestOneInput")
public func httpRequestTarget(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let parts = String(decoding: Fuzz.bytes(start, count), as: UTF8.self)
        .split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
    let method = parts[0]
    let target = parts.count > 1 ? parts[1] : ""
    let token = parts.count > 2 ? parts[2] : ""

    checkRoute(method: method, target: target)
    checkPercentDecoding(target)
    checkToken(token)
    if case .success(let request) = RequestRouter.route(method: method, target: target),
        let context = request.query["context"]
    {
        checkToken(context)
    }
    return 0
}

private func checkRoute(method: String, target: String) {
    switch RequestRouter.route(method: method, target: target) {
    case .success(let request):
        Fuzz.check(target.hasPrefix(request.path), "path \(request.path) is not the start of \(target)")
        switch request.route {
        case .getKey(let key), .putKey(let key), .deleteKey(let key), .lookup(let key), .localCopy(let key):
            Fuzz.check(!key.isEmpty, "empty key routed from \(target)")
            let prefix =
                request.route == .localCopy(key) ? "/admin/local/" : request.route == .lookup(key) ? "/lookup/" : "/kv/"
            let again = RequestRouter.route(method: method, target: prefix + percentEncoded(key))
            Fuzz.check(
                (try? again.get().route) == request.route, "key \(key) does not route again from its encoding")
        default: break
        }
    case .failure(let error):
        Fuzz.check([400, 404, 405].contains(error.status), "status \(error.status)")
        Fuzz.check((error.allow != nil) == (error.status == 405), "Allow for \(error.status)")
    }
}

/// Percent-decoding inverts percent-encoding for any text, and decoding
/// text without `%` changes nothing.
private func checkPercentDecoding(_ text: String) {
    Fuzz.check(PercentDecoding.decode(percentEncoded(text)) == text, "percent round trip of \(text)")
    // Bytes, not characters: `%` followed by a combining mark is one
    // character that is not "%", yet still an escape.
    if !text.utf8.contains(UInt8(ascii: "%")) {
        Fuzz.check(PercentDecoding.decode(text) == text, "decoded \(text) without escapes")
    }
}

private func checkToken(_ token: String) {
    // Any text is metadata a token can carry, and it comes back unchanged.
    Fuzz.check(ContextToken.decode(ContextToken.encode(token)) == token, "token round trip of \(token)")
    guard let metadata = ContextToken.decode(token) else { return }
    Fuzz.check(ContextToken.encode(metadata) == token, "token \(token) decodes but is not canonical")
    guard let context = try? Metadata.context(from: metadata) else { return }
    let rendered = Metadata.encode(context)
    Fuzz.check((try? Metadata.context(from: rendered)) == context, "metadata \(metadata) renders as \(rendered)")
}

/// Every byte but the unreserved ones (RFC 3986 §2.3) as `%XX`.
private func percentEncoded(_ text: String) -> String {
    let hex = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            out.append(byte)
        default:
            out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
        }
    }
    return String(decoding: out, as: UTF8.self)
}
