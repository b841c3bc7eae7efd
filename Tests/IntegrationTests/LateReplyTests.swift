import EdgeCore
import Foundation
@testable import Modbus
import Synchronization
import Testing

/// RS-485 slaves that answer after the response timeout (a long cable, a slow sensor). A value
/// published as good must be the answer to the request it is stored for: never another channel's,
/// another slave's or an earlier poll's. The slaves are a Python peer on a socat pty pair
/// (Peers/late_rtu_slave.py) whose every register names the slave, the register and the moment the
/// request arrived, so each good reading can be checked against the poll that published it.
@Suite struct LateReplyTests {
    static let timeoutMS = 100

    /// Two u32 channels read with two requests of the same shape (2 registers each), as in the field
    /// report: the case where a late reply fits the next request exactly.
    static func device(_ name: String, slave: Int) -> DeviceConfig {
        let profile = Profile(name: "tagged", model: "late_rtu_slave.py", maxRegistersPerRead: 2, channels: [
            ChannelSpec(name: "a", function: .holding, address: 0, type: .u32),
            ChannelSpec(name: "b", function: .holding, address: 2, type: .u32),
        ])
        return DeviceConfig(name: name, bus: "shed", slave: slave, profile: profile, pollMS: 300)
    }

    struct Run {
        var samples: [DeviceSample]
        var notes: [String]
        var lateReplies: [Int: Int]
        var devices: [DeviceConfig]

        /// Good readings whose value is not this device's, this channel's and this poll's answer.
        func misattributed() -> [String] {
            var wrong: [String] = []
            for s in samples {
                guard let device = devices.first(where: { $0.name == s.device }) else { continue }
                for r in s.readings where r.quality == .good {
                    guard let v = r.value, let ch = device.channels.first(where: { $0.name == r.channel }) else { continue }
                    let word = UInt32(v)
                    let tag = Int(word >> 16), arrived = Int(word & 0xFFFF)
                    let wantTag = device.slave << 8 | ch.address
                    // Hundredths of a second from the poll's start to the request's arrival at the slave.
                    let start = Int((s.time * 100).rounded(.down)) % 65536
                    let after = (arrived - start + 65536) % 65536
                    let within = Int(s.durationMS / 10) + 2
                    if tag != wantTag {
                        wrong.append("\(s.device).\(r.channel) got register tag \(String(tag, radix: 16)) (want \(String(wantTag, radix: 16)))")
                    } else if after > within {
                        wrong.append("\(s.device).\(r.channel) is an answer from \(Double(65536 - after) / 100) s before its poll")
                    }
                }
            }
            return wrong
        }

        func good(_ device: String, in range: Range<Double> = 0..<1) -> (good: Int, all: Int) {
            let mine = samples.filter { $0.device == device }
            let slice = mine[Int(Double(mine.count) * range.lowerBound)..<Int(Double(mine.count) * range.upperBound)]
            let readings = slice.flatMap(\.readings)
            return (readings.filter { $0.quality == .good }.count, readings.count)
        }
    }

    /// Runs a bus poller against the peer until every device has `polls` samples.
    static func run(slaves: [String], devices: [DeviceConfig], polls: Int) async throws -> Run {
        let dir = try TempDir()
        let (master, slave) = (dir.path + "/ttyMaster", dir.path + "/ttySlave")
        let line = try TestProcess("/usr/bin/socat", ["pty,raw,echo=0,link=\(master)", "pty,raw,echo=0,link=\(slave)"], name: "socat")
        defer { line.stop(signal: SIGKILL) }
        try await waitUntil(timeout: .seconds(10), "the pty pair") {
            FileManager.default.fileExists(atPath: master) && FileManager.default.fileExists(atPath: slave) ? true : nil
        }
        let script = Binaries.repoRoot + "/Tests/IntegrationTests/Peers/late_rtu_slave.py"
        let peer = try TestProcess("/usr/bin/python3", [script, slave, "--timeout-ms", "\(timeoutMS)"] + slaves.flatMap { ["--slave", $0] },
                                   name: "late-slave")
        defer { peer.stop(signal: SIGKILL) }
        try await peer.waitForLine(timeout: .seconds(20), "late slave ready") { $0 == "ready" }

        let connection = ModbusConnection(config: BusConfig(
            name: "shed", transport: .rtu(device: master, serial: SerialSettings(), rs485: false),
            responseTimeoutMS: timeoutMS, byteTimeoutMS: 20))
        let collected = Mutex<[DeviceSample]>([])
        let notes = Mutex<[String]>([])
        let poller = BusPoller(connection: connection, devices: devices)
        let task = Task {
            await poller.run(emit: { s in collected.withLock { $0.append(s) } },
                             onFault: { n in notes.withLock { $0.append(n) } })
        }
        defer { task.cancel() }
        try await waitUntil(timeout: .seconds(90), "\(polls) polls of every device") {
            let samples = collected.withLock { $0 }
            return devices.allSatisfy { d in samples.filter { $0.device == d.name }.count >= polls } ? true : nil
        }
        task.cancel()
        _ = await task.value
        return Run(samples: collected.withLock { $0 }, notes: notes.withLock { $0 },
                   lateReplies: await connection.lateReplies, devices: devices)
    }

    @Test("a slave late by 1.2×, 2.5× or 4× the timeout on every third request: no value lands in the wrong channel or poll",
          arguments: [1.2, 2.5, 4.0])
    func lateOnceInThree(factor: Double) async throws {
        let device = Self.device("probe", slave: 1)
        let run = try await Self.run(slaves: ["1:\(factor):3"], devices: [device], polls: 15)
        let wrong = run.misattributed()
        #expect(wrong.isEmpty, "\(wrong.count) misattributed values, e.g. \(wrong.prefix(5))")
        let (good, all) = run.good("probe")
        #expect(good >= all / 2, "a slave that answers two requests in three in time is mostly read: \(good)/\(all)")
        #expect(run.lateReplies[1, default: 0] >= 1, "the late replies are caught and counted: \(run.lateReplies)\n\(run.notes)")
        #expect(run.notes.contains { $0.contains("slave 1 answered") }, "the log says slave 1 was late: \(run.notes)")
    }

    @Test("a slave late by 1.2×, 2.5× or 4× the timeout on every request: never the previous poll's answer, and read again once its delay is learned",
          arguments: [1.2, 2.5, 4.0])
    func lateAlways(factor: Double) async throws {
        let device = Self.device("probe", slave: 1)
        let run = try await Self.run(slaves: ["1:\(factor):1"], devices: [device], polls: 12)
        let wrong = run.misattributed()
        #expect(wrong.isEmpty, "\(wrong.count) misattributed values, e.g. \(wrong.prefix(5))")
        let (good, all) = run.good("probe", in: 0.5..<1)
        #expect(good == all, "after its first late reply the line waits long enough for this slave: \(good)/\(all) good in the second half\n\(run.notes)")
        #expect(run.notes.contains { $0.contains("now waits up to") }, "the learned timeout is logged: \(run.notes)")
    }

    @Test("one slave's late replies neither reach nor spoil another slave's answers on the same line")
    func lateSlaveBesideAHealthyOne() async throws {
        let late = Self.device("late", slave: 1), healthy = Self.device("healthy", slave: 2)
        let run = try await Self.run(slaves: ["1:2.5:2", "2:0:0"], devices: [late, healthy], polls: 12)
        let wrong = run.misattributed()
        #expect(wrong.isEmpty, "\(wrong.count) misattributed values, e.g. \(wrong.prefix(5))")
        let (good, all) = run.good("healthy")
        #expect(good == all, "the healthy slave answered every request in time: \(good)/\(all)\n\(run.notes)")
        #expect(run.lateReplies[1, default: 0] >= 1)
        #expect(run.lateReplies[2, default: 0] == 0)
    }

    @Test("RTU framing: CRC-16/MODBUS, frame lengths by function, and what cannot answer a request")
    func framing() {
        // 01 03 00 00 00 01 has the well-known CRC 84 0A (low byte first).
        #expect(RTUFrame.crc16([0x01, 0x03, 0x00, 0x00, 0x00, 0x01]) == 0x0A84)
        #expect(RTUFrame.crc16([0x01, 0x03, 0x00, 0x00, 0x00, 0x01, 0x84, 0x0A]) == 0)
        #expect(RTUFrame.head([0x01][...]) == .needMore)
        #expect(RTUFrame.head([0x01, 0x03][...]) == .needMore)
        #expect(RTUFrame.head([0x01, 0x03, 0x04][...]) == .length(9))
        #expect(RTUFrame.head([0x01, 0x83][...]) == .length(5))
        #expect(RTUFrame.head([0x01, 0x10][...]) == .length(8))
        #expect(RTUFrame.head([0x01, 0x03, 0x00][...]) == .unframeable)
        #expect(RTUFrame.head([0x01, 0x2A][...]) == .unframeable)
        let want = RTUFrame.Expectation.read(slave: 1, function: 3, count: 2)
        #expect(RTUFrame.match([1, 3, 4, 0, 1, 0, 2, 0, 0][...], want) == .answer([0, 1, 0, 2]))
        #expect(RTUFrame.match([1, 3, 2, 0, 1, 0, 0][...], want) == .stray(slave: 1), "a reply of another size is not this answer")
        #expect(RTUFrame.match([2, 3, 4, 0, 1, 0, 2, 0, 0][...], want) == .stray(slave: 2), "another slave's reply is not this answer")
        #expect(RTUFrame.match([1, 4, 4, 0, 1, 0, 2, 0, 0][...], want) == .stray(slave: 1), "another function's reply is not this answer")
        #expect(RTUFrame.match([1, 0x83, 2, 0, 0][...], want) == .exception(2))
        #expect(RTUFrame.Expectation.read(slave: 1, function: 1, count: 9).byteCount == 2, "9 coils come in 2 bytes")
    }
}
