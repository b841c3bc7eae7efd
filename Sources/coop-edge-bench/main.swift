// coop-edge-bench: prints the numbers the issues ask for. Run with `make bench` (release build).
//   == Detection  ns per sample per channel, mallocs per sample, memory per channel, replay rows/s
//   == Outbox     commits per second, bytes written to disk per reading; the flash sweep behind OutboxTuning.default
//   == Pipeline   readings/s simulator → agent → broker, agent CPU µs per reading, backlog drain rate
//   == Flash      bytes the agent writes to disk per reading at 100 channels × 1 Hz, broker up and down
//                 (not in the default run: it takes a few minutes; `coop-edge-bench flash`)
//   make-backlog  an outbox holding hours of undelivered polls (Benchmarks/footprint.py --backlog)
//   sweep      the trace sweep of issue 8 (see SweepCommand); not part of the default run
import Foundation

let only = CommandLine.arguments.dropFirst().first
if only == "make-backlog" {
    await BacklogCommand.run(Array(CommandLine.arguments.dropFirst(2)))
    exit(0)
}
if only == "sweep" {
    SweepCommand.run(Array(CommandLine.arguments.dropFirst(2)))
    exit(0)
}
if only == nil || only == "detection" { DetectionBenchmarks.run() }
if only == nil || only == "outbox" { await OutboxBenchmarks.run(); await OutboxBenchmarks.flashSweep() }
if only == nil || only == "pipeline" {
    do { try await PipelineBenchmarks.run() } catch { print("pipeline: failed: \(error)") }
}
if only == "flash" {
    do { try await FlashBenchmarks.run() } catch { print("flash: failed: \(error)") }
}
