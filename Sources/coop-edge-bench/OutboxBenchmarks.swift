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

    /// `write_bytes` of /proc/self/io: bytes this process caused to be sent to the storage layer.
    static func ioWriteBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/io", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("write_bytes:") {
            return Int(line.split(separator: " ").last ?? "") ?? 0
        }
        return 0
    }
}
