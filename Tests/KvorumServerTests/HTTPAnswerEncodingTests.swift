import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import KvorumServer

/// `HTTPAnswer.encode`: the bytes of an answer on the wire, which the node
/// writes itself instead of through NIO's response encoder.
struct HTTPAnswerEncodingTests {
    private static func encoded(_ answer: HTTPAnswer, keepAlive: Bool = true, withBody: Bool = true) -> String {
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        answer.encode(into: &buffer, keepAlive: keepAlive, withBody: withBody)
        return String(buffer: buffer)
    }

    @Test func statusLineHeadersAndBody() {
        let answer = HTTPAnswer(
            status: .notFound, body: Array("{}\n".utf8), headers: [("X-Kvorum-Context", "abc"), ("Allow", "GET")])
        #expect(
            Self.encoded(answer)
                == "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 3\r\n"
                + "X-Kvorum-Context: abc\r\nAllow: GET\r\n\r\n{}\n")
    }

    /// A connection that closes after the answer says so; a `HEAD` request
    /// gets the head alone, with the length the body would have.
    @Test func closeAndHead() {
        let answer = HTTPAnswer(status: .ok, body: [1, 2, 3, 4], contentType: "application/octet-stream")
        #expect(
            Self.encoded(answer, keepAlive: false)
                == "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 4\r\n"
                + "Connection: close\r\n\r\n\u{1}\u{2}\u{3}\u{4}")
        #expect(
            Self.encoded(answer, withBody: false)
                == "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 4\r\n\r\n")
    }

    /// Status codes and lengths are written in decimal, whatever their
    /// number of digits.
    @Test func codesAndLengthsInDecimal() {
        for length in [0, 1, 9, 10, 99, 100, 101, 1000, 4096, 65_535, 1_048_577] {
            let text = Self.encoded(HTTPAnswer(status: .ok, body: Array(repeating: 7, count: length)), withBody: false)
            #expect(text.contains("\r\nContent-Length: \(length)\r\n"), "\(length)")
        }
        for status in [
            HTTPResponseStatus.continue, .noContent, .conflict, .serviceUnavailable,
            .custom(code: 599, reasonPhrase: "X"),
        ] {
            #expect(
                Self.encoded(HTTPAnswer(status: status, body: [])).hasPrefix(
                    "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n"))
        }
    }

    /// Long headers and a long content type fit: the head's room is
    /// reserved from their lengths.
    @Test func longHeadersFit() {
        let long = String(repeating: "v", count: 10_000)
        let answer = HTTPAnswer(
            status: .custom(code: 999, reasonPhrase: String(repeating: "r", count: 300)), body: [1],
            contentType: "text/" + long, headers: [("X-A", long), ("X-" + long, "b")])
        let text = Self.encoded(answer, keepAlive: false)
        #expect(text.hasPrefix("HTTP/1.1 999 " + String(repeating: "r", count: 300) + "\r\nContent-Type: text/" + long))
        #expect(text.hasSuffix("\r\nX-A: \(long)\r\nX-\(long): b\r\nConnection: close\r\n\r\n\u{1}"))
    }

    /// A header value a client could have stored with a line break in it
    /// (a content type given over the binary protocol) never reaches the
    /// wire: the answer becomes a 500 that names the header.
    @Test func invalidHeadersBecomeAServerError() {
        for contentType in ["text/plain\r\nX-Injected: 1", "a\u{0}b", "del\u{7F}", "line\nbreak"] {
            let text = Self.encoded(HTTPAnswer(status: .ok, body: [65], contentType: contentType))
            #expect(text.hasPrefix("HTTP/1.1 500 Internal Server Error\r\n"), "\(contentType.debugDescription)")
            #expect(text.contains("Content-Type"), "the 500 names the header")
            #expect(!text.contains("X-Injected: 1\r\n"))
        }
        let badName = HTTPAnswer(status: .ok, body: [], headers: [("Bad Name", "x")])
        #expect(Self.encoded(badName).hasPrefix("HTTP/1.1 500 "))
        // Tabs, non-ASCII text and every token character pass.
        let fine = HTTPAnswer(
            status: .ok, body: [], contentType: "text/plain;\tcharset=\"utf-8\" ключ",
            headers: [("!#$%&'*+-.^_`|~09azAZ", "v")])
        #expect(Self.encoded(fine).hasPrefix("HTTP/1.1 200 OK\r\n"))
    }

    /// The rule is that of NIO's response header validator, which the
    /// node used before: both agree on every single-byte name and value.
    @Test func fieldRuleMatchesNIOsValidator() throws {
        for byte in UInt8(0)...0x7F {
            let text = String(Unicode.Scalar(byte))
            for (name, value) in [(text, "v"), ("X-Name", "a\(text)b")] {
                let channel = EmbeddedChannel(handler: NIOHTTPResponseHeadersValidator())
                var headers = HTTPHeaders()
                headers.add(name: name, value: value)
                let head = HTTPServerResponsePart.head(
                    HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))
                let nioAccepts = (try? channel.writeOutbound(head)) != nil
                #expect(HTTPAnswer.isValidField(name: name, value: value) == nioAccepts, "byte \(byte)")
                _ = try? channel.finish()
            }
        }
    }
}
