import Agent
import ArgumentParser

@main
struct CoopEdge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coop-edge",
        abstract: "Polls Modbus sensors, keeps every reading until the co-op's MQTT broker has it, and flags anomalies at the edge.",
        version: BuildInfo.line("coop-edge"),
        subcommands: [Run.self, CheckConfig.self, Read.self, Scan.self, Status.self, Replay.self, ACL.self])
}
