import KvorumContextToken

extension ContextToken {
    /// A token a node handed out, as the history records it: the version
    /// metadata text inside (docs/chaos.md: what the checker parses),
    /// or the token itself if it does not decode, which the checker then
    /// reports as malformed.
    static func historyText(_ token: String) -> String {
        decode(token) ?? token
    }
}
