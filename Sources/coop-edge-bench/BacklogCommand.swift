import EdgeCore
import Foundation
import Outbox

/// `coop-edge-bench make-backlog PATH DEVICES CHANNELS HOURS`: writes an outbox at PATH holding
/// HOURS of undelivered polls, one per second per device, of DEVICES devices named `dev-1…` with
/// CHANNELS channels `r0…` each (the footprint benchmark's field site), ending now. The agent then
/// starts on it with the broker up and drains it while polling (Benchmarks/footprint.py --backlog).
enum BacklogCommand {
    static func run(_ args: [String]) async {
        guard args.count == 4, let devices = Int(args[1]), let channels = Int(args[2]), let hours = Double(args[3]) else {
            print("usage: coop-edge-bench make-backlog PATH DEVICES CHANNELS HOURS")
            exit(2)
        }
        do {
            let outbox = try await Outbox.open(StorageConfig(path: args[0], maxSizeMB: 4096, maxAgeDays: 60))
            let end = Date().timeIntervalSince1970 - 1
            let seconds = Int(hours * 3600)
            let started = Date()
            var seq = [String: UInt64]()
            var polls: [PollRecord] = []
            polls.reserveCapacity(20_000)
            for s in 0..<seconds {
                let time = end - Double(seconds - s)
                for d in 1...devices {
                    let name = "dev-\(d)"
                    let readings = (0..<channels).map { c in
                        Reading(channel: "r\(c)", value: 100 + Double(c) + Double((s + d) % 50) / 10, quality: .good, unit: "u")
                    }
                    let n = (seq[name] ?? 0) + 1
                    seq[name] = n
                    polls.append(PollRecord(sample: DeviceSample(device: name, time: time, monotonic: Double(s), readings: readings), seq: n))
                }
                if polls.count >= 20_000 || s == seconds - 1 {
                    _ = try await outbox.append([], polls: polls, sequences: seq)
                    polls.removeAll(keepingCapacity: true)
                }
            }
            let stats = try await outbox.stats()
            await outbox.close()
            print("backlog: \(stats.pendingReadings) polls (\(Int(stats.pendingReadings) * channels) readings), \(stats.fileBytes / 1_048_576) MiB, written in \(Int(Date().timeIntervalSince(started))) s")
        } catch {
            print("make-backlog: \(error)")
            exit(1)
        }
    }
}
