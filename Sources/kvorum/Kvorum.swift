import ArgumentParser
import KvorumClient

@main
struct Kvorum: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvorum",
        abstract: "Kvorum: a Dynamo-style replicated key-value store.",
        version: KvorumVersion.current,
        subcommands: [
            Demo.self, NodeCommand.self, ClusterCommand.self, GetCommand.self, PutCommand.self, DeleteCommand.self,
            LookupCommand.self,
            MembersCommand.self, JoinCommand.self, LeaveCommand.self, RemoveCommand.self, StatsCommand.self,
            StatusCommand.self,
            KeysCommand.self, SimulateCommand.self,
            BenchCommand.self, SimBenchCommand.self, StorageBenchCommand.self, CertsCommand.self,
        ]
    )
}
