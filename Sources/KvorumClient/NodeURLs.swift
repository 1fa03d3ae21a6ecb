import Foundation

/// How the CLI reads the nodes it is given (`--node`, `--nodes`,
/// `KVORUM_NODES`): each an `http://` or `https://` URL with a host, or
/// `host:port`, taken as `http://host:port`.
public enum NodeURLs {
    /// One node's URL, or nil when `text` is none.
    public static func parse(_ text: String) -> URL? {
        let url = URL(string: text.contains("://") ? text : "http://" + text)
        guard let url, url.scheme == "http" || url.scheme == "https", url.host?.isEmpty == false else { return nil }
        return url
    }

    /// A comma-separated list of nodes (blanks around each ignored), in
    /// order; nil when it names no node or one of them is not a node URL.
    public static func parseList(_ text: String) -> [URL]? {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        var urls: [URL] = []
        for item in items {
            guard let url = parse(item) else { return nil }
            urls.append(url)
        }
        return urls.isEmpty ? nil : urls
    }
}
