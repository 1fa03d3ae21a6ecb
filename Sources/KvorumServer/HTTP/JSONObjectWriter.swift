import KvorumCore

/// Writes a JSON object as bytes, field by field, for the answers every
/// request gets: the same bytes `JSON.object(…).renderedBytes` gives,
/// without building the object's table and sorting it. Fields must come in
/// the order `JSON` renders them, by name; a name out of order stops the
/// node rather than write an answer in another spelling.
struct JSONObjectWriter {
    private var bytes: [UInt8] = []
    private var lastName: String?

    init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    mutating func field(_ name: String, _ value: JSON) {
        begin(name)
        value.render(into: &bytes)
    }

    /// A field whose value is an array of `items`, each as `element` renders it.
    mutating func field<Item>(_ name: String, _ items: [Item], _ element: (Item) -> JSON) {
        begin(name)
        bytes.append(UInt8(ascii: "["))
        for (index, item) in items.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            element(item).render(into: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// The object's bytes, closed, then `suffix`.
    consuming func finished(suffix: String = "") -> [UInt8] {
        if lastName == nil { bytes.append(UInt8(ascii: "{")) }
        bytes.append(UInt8(ascii: "}"))
        bytes.append(contentsOf: suffix.utf8)
        return bytes
    }

    private mutating func begin(_ name: String) {
        if let lastName {
            precondition(lastName < name, "JSON field '\(name)' written after '\(lastName)'")
            bytes.append(UInt8(ascii: ","))
        } else {
            bytes.append(UInt8(ascii: "{"))
        }
        lastName = name
        JSON.string(name).render(into: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }
}
