import Foundation
import Glibc
import Testing

/// The web console in a real browser: headless Chromium (`BrowserSession`,
/// `scripts/browser.py`) keeps node1's `/ui` open while a three-node
/// cluster runs, and the page follows the cluster live.
@Suite(.serialized)
struct ConsoleProcessTests {
    /// node1's page renders all three members up, the ring's three shares
    /// and a request rate once requests come in; after `kill -9` of node3
    /// the SAME page (no reload) shows node3 down while node1 keeps
    /// answering; after node1 itself is killed the page says it does not
    /// answer. Nothing the page does breaks its Content-Security-Policy.
    @Test(.timeLimit(.minutes(3)))
    func pageFollowsTheClusterLive() async throws {
        guard let chromium = BrowserSession.chromium else {
            Issue.record(
                "the browser test cannot run: no chromium on this machine. Install it: \(BrowserSession.installHint)")
            return
        }
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { cluster.shutdown() }
        let (node1, node3) = (cluster.nodes[0], cluster.nodes[2])
        let served = try RawConnection.http(
            port: node1.httpPort, Array("GET /ui HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8))
        #expect(served.status == 200)
        let head = served.text.prefix { $0 != "<" }.lowercased()
        #expect(head.contains("content-type: text/html; charset=utf-8"), "\(head)")
        #expect(head.contains("content-security-policy: default-src 'none';"), "\(head)")
        let page = try BrowserSession(url: node1.httpURL.appendingPathComponent("ui"), chromium: chromium)
        defer { page.close() }
        try page.evaluate(
            """
            window.testMarker = "same page";
            window.violations = [];
            document.addEventListener("securitypolicyviolation", (event) => violations.push(event.violatedDirective));
            """)

        try page.wait(until: Self.states(["node1": "up", "node2": "up", "node3": "up"]), timeout: 30)
        #expect(try page.evaluate("document.querySelector('[data-node]').textContent") as? String == "node1")
        #expect(try page.evaluate("document.querySelectorAll('circle[data-ring-member]').length") as? Int == 3)
        let shares = try page.evaluate(
            "[...document.querySelectorAll('circle[data-ring-member]')].reduce((s, c) => s + Number(c.dataset.share), 0)"
        )
        #expect(abs((shares as? Double ?? 0) - 1) < 0.01, "ring shares add up to \(String(describing: shares))")

        let client = node1.client()
        for index in 0..<20 { _ = try await client.put("console-\(index)", value: "v", w: 2) }
        try page.wait(until: "Number(document.querySelector('[data-request-rate]').dataset.value) > 0", timeout: 15)

        cluster.kill9(node3)
        let killed = ContinuousClock.now
        try page.wait(until: Self.states(["node1": "up", "node2": "up", "node3": "down"]), timeout: 45)
        print("console: node3 shown down \(ContinuousClock.now - killed) after kill -9")
        #expect(try page.evaluate("window.testMarker") as? String == "same page")
        #expect(try page.evaluate("document.querySelector('[data-banner]').hidden") as? Bool == true)

        cluster.kill9(node1)
        let banner = try page.wait(
            until:
                "!document.querySelector('[data-banner]').hidden && document.querySelector('[data-banner]').textContent",
            timeout: 15)
        #expect((banner as? String)?.contains("does not answer") == true, "\(String(describing: banner))")
        #expect(try page.evaluate("window.violations.length") as? Int == 0)
    }

    /// On an HTTPS node that checks credentials the page loads without any
    /// (it holds no data), finds `/status` refused and asks for a token;
    /// with a `monitor` token typed in, it keeps the token in the tab's
    /// `sessionStorage`, sends it as a bearer header and renders the node.
    /// (The browser skips certificate checks here: trusting the cluster's
    /// CA is the operator's browser's business.)
    @Test(.timeLimit(.minutes(2)))
    func secureNodeAsksForAToken() async throws {
        guard let chromium = BrowserSession.chromium else {
            Issue.record(
                "the browser test cannot run: no chromium on this machine. Install it: \(BrowserSession.installHint)")
            return
        }
        let node = try await SecureNode.start()
        defer { node.stop() }
        let page = try BrowserSession(
            url: node.url.appendingPathComponent("ui"), chromium: chromium, arguments: ["--ignore-certificate-errors"])
        defer { page.close() }
        let form = "document.querySelector('[data-token-form]')"
        let banner = try page.wait(
            until: "!\(form).hidden && document.querySelector('[data-banner]').textContent", timeout: 15)
        #expect((banner as? String)?.contains("401") == true, "\(String(describing: banner))")
        #expect(try page.evaluate("document.querySelector('[data-member]') === null") as? Bool == true)

        let token = try #require(node.tokens[.monitor])
        try page.evaluate("\(form).elements.token.value = '\(token)'; \(form).requestSubmit(); true")
        try page.wait(until: "\(Self.states(["node1": "up"])) && \(form).hidden", timeout: 15)
        #expect(try page.evaluate("sessionStorage.getItem('kvorum-token')") as? String == token)
        #expect(try page.evaluate("document.querySelector('[data-banner]').hidden") as? Bool == true)
    }

    /// A JavaScript condition: each named member's row shows that state.
    static func states(_ expected: [String: String]) -> String {
        expected.sorted { $0.key < $1.key }.map { name, state in
            "document.querySelector('[data-member=\"\(name)\"]')?.dataset.state === '\(state)'"
        }.joined(separator: " && ")
    }
}
