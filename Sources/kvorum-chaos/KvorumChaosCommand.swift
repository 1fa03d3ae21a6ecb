import ArgumentParser

/// `kvorum-chaos`: test hosts in network namespaces and fault runs against them.
@main
struct KvorumChaosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvorum-chaos",
        abstract: "Kvorum on test hosts in network namespaces: faults, workloads and a history checker.",
        subcommands: [RunCommand.self, UpCommand.self, RelayCommand.self, CheckCommand.self]
    )
}
