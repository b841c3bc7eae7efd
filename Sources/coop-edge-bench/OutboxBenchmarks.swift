import EdgeCore
import Foundation
import Outbox

/// The outbox on its own: how fast polls commit, and how many bytes reach the disk per reading
/// (flash wear on an SD card), from /proc/self/io.
enum OutboxBenchmarks {
    static func run() async {
        print("== Outbox")
        let dir = NSTemporaryDirectory() + "coop-edge-bench-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (batch, durability) in [(1, StorageConfig.Durability.normal), (10, .normal), (10, .full)] {
            do {
                try? FileManager.default.removeItem(atPath: dir)
                let outbox = try await Outbox.open(StorageConfig(path: dir + "/o.sqlite", durability: durability))
                let sample = DeviceSample(device: "cold-room-1", time: 1.8e9, monotonic: 1, readings: [
                    Reading(channel: "temperature", value: 4.1, quality: .good, unit: "°C"),
                    Reading(channel: "humidity", value: 88.2, quality: .good, unit: "%RH"),
                ])
                let payload = StatePayload.encode(sample, seq: 1, site: "farm-17")
                let message = NewMessage(lane: .readings, topic: "coop/x/y/cold-room-1/state", payload: payload, created: 1.8e9)
                let commits = 400
                let writtenBefore = ioWriteBytes()
                let clock = ContinuousClock()
                let start = clock.now
                var ids: [Int64] = []
                for _ in 0..<commits { ids += try await outbox.append(Array(repeating: message, count: batch)) }
                let appendTime = clock.now - start
                for chunk in stride(from: 0, to: ids.count, by: 64) { try await outbox.acknowledge(Array(ids[chunk..<min(ids.count, chunk + 64)])) }
                await outbox.close()
                let written = ioWriteBytes() - writtenBefore
                let polls = commits * batch
                let seconds = Double(appendTime.components.seconds) + Double(appendTime.components.attoseconds) / 1e18
                print("append \(batch) poll(s)/commit, \(durability.rawValue): \(Int(Double(commits) / seconds)) commits/s, \(Int(Double(polls) / seconds)) polls/s; \(written / (polls * 2)) bytes written per reading (append + ack, 2 readings per poll)")
            } catch {
                print("outbox: \(error)")
            }
        }
    }

    /// Bytes written per reading at the issue's field load — 40 devices (20 × 3 channels + 20 × 2) polled
    /// every second, committed every `delay` seconds — for several page sizes and checkpoint settings,
    /// with the broker up (each commit's polls acknowledged at once, deleted with the next commit) and
    /// down (nothing acknowledged). Time is simulated (30 minutes per case, so checkpoints are included);
    /// the file is on the disk under the current directory, never a tmpfs. `OutboxTuning.default` comes
    /// from this table.
    static func flashSweep() async {
        print("== Outbox flash sweep (100 channels × 1 Hz, simulated 30 min per case, 5 min at delay 0; bytes written per reading)")
        let dir = FileManager.default.currentDirectoryPath + "/.bench-outbox-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = OutboxTuning.default
        var cases: [(String, OutboxTuning, Double)] = [("default", base, StorageConfig.defaultCommitDelay)]
        for page in [512, 1024, 2048, 4096] where page != base.pageSize {
            var t = base; t.pageSize = page; cases.append(("page \(page)", t, StorageConfig.defaultCommitDelay))
        }
        for page in [512, 1024] {
            var t = base; t.pageSize = page; t.incrementalVacuum.toggle()
            if t != base { cases.append(("page \(page), auto_vacuum \(t.incrementalVacuum ? "incremental" : "none")", t, StorageConfig.defaultCommitDelay)) }
        }
        for ckpt in [500, 8000] { var t = base; t.walAutocheckpoint = ckpt; t.journalSizeLimit = ckpt * t.pageSize; cases.append(("wal_autocheckpoint \(ckpt)", t, StorageConfig.defaultCommitDelay)) }
        for delay in [0.0, 1, 5] { cases.append(("commit_delay \(delay) s", base, delay)) }
        for (name, tuning, delay) in cases {
            var line = "\(name) (page \(tuning.pageSize), \(tuning.incrementalVacuum ? "incremental" : "no") vacuum, checkpoint \(tuning.walAutocheckpoint) pages, commit every \(delay) s):"
            for brokerUp in [true, false] {
                do {
                    try? FileManager.default.removeItem(atPath: dir)
                    let outbox = try await Outbox.open(StorageConfig(path: dir + "/o.sqlite", commitDelay: delay), tuning: tuning)
                    // Each device's poll is its own commit at delay 0 (the recorder commits per wake).
                    let pollsPerCommit = delay == 0 ? 1 : 40 * Int(delay.rounded())
                    let totalPolls = (delay == 0 ? 300 : 1800) * 40
                    var readings = 0
                    let before = ioWriteBytes()
                    var polls: [PollRecord] = []
                    for n in 0..<totalPolls {
                        let d = n % 40
                        let seq = UInt64(n / 40 + 1)
                        let t = 1.8e9 + Double(n / 40)
                        let readingsOfDevice: [Reading] = d < 20
                            ? [Reading(channel: "moisture", value: 31.4 + Double(seq % 7) * 0.1, quality: .good, unit: "%VWC"),
                               Reading(channel: "temperature", value: 18.2, quality: .good, unit: "°C"),
                               Reading(channel: "conductivity", value: 1250, quality: .good, unit: "µS/cm")]
                            : [Reading(channel: "temperature", value: 4.1, quality: .good, unit: "°C"),
                               Reading(channel: "humidity", value: 88.2 + Double(seq % 5) * 0.1, quality: .good, unit: "%RH")]
                        readings += readingsOfDevice.count
                        polls.append(PollRecord(sample: DeviceSample(device: "dev-\(d)", time: t, monotonic: t, readings: readingsOfDevice), seq: seq))
                        if polls.count == pollsPerCommit {
                            let ids = try await outbox.append([], polls: polls)
                            polls.removeAll(keepingCapacity: true)
                            if brokerUp { try await outbox.acknowledge(ids) }
                        }
                    }
                    let written = ioWriteBytes() - before
                    await outbox.close()
                    line += " \(brokerUp ? "up" : "down") \(String(format: "%.1f", Double(written) / Double(readings)))"
                } catch {
                    line += " \(brokerUp ? "up" : "down") failed: \(error)"
                }
            }
            print(line)
        }
    }

    /// `write_bytes` of /proc/self/io: bytes this process caused to be sent to the storage layer.
    static func ioWriteBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/io", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("write_bytes:") {
            return Int(line.split(separator: " ").last ?? "") ?? 0
        }
        return 0
    }
}
