import Foundation
import KvorumRouting
import Testing

@testable import KvorumServer

/// The web console's page (`GET /ui`) without a browser: what it is served
/// with, that it needs no credentials even where every other route does,
/// and that it loads nothing from outside the node.
struct ConsolePageTests {
    private static func header(_ name: String) -> String? {
        ConsolePage.answer.headers.first { $0.0 == name }?.1
    }

    @Test func servedAsHTMLWithAPolicyForbiddingRemoteLoads() throws {
        let answer = ConsolePage.answer
        #expect(answer.status == .ok)
        #expect(answer.contentType == "text/html; charset=utf-8")
        #expect(String(decoding: answer.body, as: UTF8.self) == ConsolePage.html)
        #expect(Self.header("X-Content-Type-Options") == "nosniff")
        let policy = try #require(Self.header("Content-Security-Policy"))
        let directives = Dictionary(
            uniqueKeysWithValues: policy.split(separator: ";").map {
                let words = $0.split(separator: " ").map(String.init)
                return (words[0], Array(words.dropFirst()))
            })
        #expect(directives["default-src"] == ["'none'"])
        #expect(directives["connect-src"] == ["'self'"])
        #expect(directives["img-src"] == ["data:"])
        #expect(directives["frame-ancestors"] == ["'none'"])
        // The inline script and style are allowed by their hashes, nothing else.
        #expect(directives["script-src"] == ["'sha256-\(Self.hash(ConsolePage.script))'"])
        #expect(directives["style-src"] == ["'sha256-\(Self.hash(ConsolePage.style))'"])
        #expect(ConsolePage.html.contains("<script>\(ConsolePage.script)</script>"))
        #expect(ConsolePage.html.contains("<style>\(ConsolePage.style)</style>"))
    }

    /// No URL with a scheme or host, no protocol-relative `//`: every
    /// `src`/`href` is a `data:` URL, and the script fetches paths of its
    /// own origin only (`/status`, `/metrics`).
    @Test func referencesNothingOutsideTheNode() throws {
        let page = ConsolePage.html
        #expect(!page.contains("://"))
        #expect(!page.lowercased().contains("http:") && !page.lowercased().contains("https:"))
        let attributes = try Regex(#"(?:src|href|action)\s*=\s*"([^"]*)""#)
        for match in page.matches(of: attributes) {
            let value = String(match.output[1].substring ?? "")
            #expect(value.hasPrefix("data:"), "\(value)")
        }
        let fetched = page.matches(of: try Regex(#"fetchText\("([^"]*)"\)"#)).map {
            String($0.output[1].substring ?? "")
        }
        #expect(fetched.sorted() == ["/metrics", "/status"])
        #expect(!page.contains("@import") && !page.contains("url("))
    }

    /// The page holds no data: a node that checks credentials serves it to
    /// anyone; the token the page asks for is sent as a bearer header.
    @Test func openOnANodeThatChecksCredentials() {
        let access = AccessList(
            tokens: [.init(name: "ops", role: .monitor, sha256: AccessToken.hash("kvt_m"))], clients: [])
        let authenticator = Authenticator(access: access, tls: true)
        #expect(authenticator.enforced)
        #expect(
            authenticator.decide(needed: Route.console.requiredRole, authorization: nil, certificateName: nil)
                == .allowed(nil))
        #expect(
            authenticator.decide(needed: Route.metrics.requiredRole, authorization: nil, certificateName: nil)
                == .refused(.missing))
        #expect(ConsolePage.script.contains(#"Authorization: "Bearer " + token"#))
        #expect(ConsolePage.script.contains("sessionStorage"))
    }

    /// SHA-256 in base64, as a CSP hash source holds it.
    private static func hash(_ text: String) -> String {
        Data(AccessToken.hash(text)).base64EncodedString()
    }
}
