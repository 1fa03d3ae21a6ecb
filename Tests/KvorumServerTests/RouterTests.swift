import Testing

@testable import KvorumServer

/// How the HTTP API reads request targets: path and query split, `+` as a
/// space in the query, percent-decoding, and what it does with bad escapes.
struct RouterTests {
    @Test func splitsPathAndQuery() {
        #expect(Router.splitURI("/kv/a").path == "/kv/a")
        #expect(Router.splitURI("/kv/a").query.isEmpty)
        let (path, query) = Router.splitURI("/kv/a%2Fb?w=2&context=n1.1%3A3&flag&note=two+words%21")
        #expect(path == "/kv/a%2Fb")
        #expect(query == ["w": "2", "context": "n1.1:3", "flag": "", "note": "two words!"])
        #expect(Router.splitURI("/kv/x?a+b=c+d%2Be").query == ["a b": "c d+e"])
    }

    @Test func decodesComponents() {
        #expect(Router.decodeComponent("plain") == "plain")
        #expect(Router.decodeComponent("caf%C3%A9") == "caf\u{E9}")
        #expect(Router.decodeComponent("%FF") == nil)
        // A query value that does not decode is kept as sent.
        #expect(Router.splitURI("/kv/x?v=%FF").query == ["v": "%FF"])
    }
}
