// coop-edge-bench: prints the numbers the issues ask for. Run with `make bench` (release build).
//   == Detection  ns per sample per channel, mallocs per sample, memory per channel, replay rows/s
//   == Outbox     commits per second, bytes written to disk per reading
//   == Pipeline   readings/s simulator → agent → broker, agent CPU µs per reading, backlog drain rate
import Foundation

let only = CommandLine.arguments.dropFirst().first
if only == nil || only == "detection" { DetectionBenchmarks.run() }
if only == nil || only == "outbox" { await OutboxBenchmarks.run() }
if only == nil || only == "pipeline" {
    do { try await PipelineBenchmarks.run() } catch { print("pipeline: failed: \(error)") }
}
