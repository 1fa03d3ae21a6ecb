import ArgumentParser

@main
struct Kvorum: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvorum",
        abstract: "Kvorum: a Dynamo-style replicated key-value store.",
        subcommands: [Demo.self, NodeCommand.self]
    )
}
