internal import CPlatform
internal import IOThread
public import EdgeCore
internal import FoundationEssentials
#if canImport(Glibc)
internal import Glibc
#endif

/// Polls every device on one bus at its interval, one request at a time, and hands each poll's
/// readings to `emit`.
///
/// Scheduling: each device has a due time on the monotonic clock; the earliest due device is
/// polled next. A poll that overruns its slot does not queue catch-up polls: the next one is due
/// one interval after the slot it missed (so a slow bus degrades to fewer polls, never a burst).
/// Adjacent channels are read with one request (`ReadPlan`). A device that times out on one
/// request is not asked again in the same poll: on a 9600-baud line, a dead sensor must not eat
/// the other sensors' time. For the same reason a device that stops answering goes offline after
/// a few polls and is asked less often until it answers (`DeviceHealth`); its polls still publish,
/// flagged `offline`, so the co-op sees the silence rather than a gap.
public struct BusPoller: Sendable {
    public let connection: ModbusConnection
    public let devices: [DeviceConfig]
    let plans: [ReadPlan]

    public init(connection: ModbusConnection, devices: [DeviceConfig]) {
        self.connection = connection
        self.devices = devices
        self.plans = devices.map { ReadPlan(channels: $0.channels, maxPerRead: $0.profile.maxRegistersPerRead) }
    }

    /// Runs until the task is cancelled. `emit` is called on the bus thread; it must not block
    /// (yield into an AsyncStream). `onFault` hears each new kind of fault once, for the log, and
    /// what the RTU line learned (late replies discarded, timeouts that grew).
    public func run(emit: @escaping @Sendable (DeviceSample) -> Void,
                    onFault: @escaping @Sendable (String) -> Void = { _ in }) async {
        guard !devices.isEmpty else { return }
        // The whole loop runs on the bus's own thread and sleeps there between polls: one wake-up
        // per poll, where a timer and hops through the cooperative pool cost several.
        let sleeper = Sleeper()
        await withTaskCancellationHandler {
            await connection.pollUntilStopped(devices: devices, plans: plans, sleeper: sleeper, emit: emit, onFault: onFault)
        } onCancel: {
            sleeper.stop()
        }
    }
}

extension ModbusConnection {
    /// `BusPoller.run`'s loop, on this connection's thread until `sleeper` is stopped.
    func pollUntilStopped(devices: [DeviceConfig], plans: [ReadPlan], sleeper: Sleeper,
                          emit: @Sendable (DeviceSample) -> Void, onFault: @Sendable (String) -> Void) {
        let clock = ContinuousClock()
        // Spread first polls over the first interval so a bus of many devices doesn't start in a burst.
        let start = clock.now
        var due = devices.indices.map { start.advanced(by: .milliseconds($0 * 50)) }
        var lastFault = [String?](repeating: nil, count: devices.count)
        var health = [DeviceHealth](repeating: DeviceHealth(), count: devices.count)
        while !sleeper.isStopped {
            var next = 0
            for i in due.indices where due[i] < due[next] { next = i }
            guard sleeper.sleep(for: clock.now.duration(to: due[next])) else { return }
            let device = devices[next]
            var (sample, answered) = pollOnce(device: device, plan: plans[next])
            let fault = sample.readings.first(where: { $0.quality == .commFault })?.fault
            let change = health[next].record(answered: answered)
            let interval = Duration.milliseconds(device.pollMS)
            let who = "device \(device.name) (slave \(device.slave))"
            switch change {
            case .wentOffline:
                onFault("\(who) is offline: no answer to \(DeviceHealth.offlineAfter) polls in a row (\(fault ?? "no reply")); asking it less often, at most every \(DeviceHealth.slowest.components.seconds) s, until it answers")
            case .cameBack(let missed):
                onFault("\(who) is back online after \(missed) unanswered polls")
            case nil:
                if fault != lastFault[next] {
                    onFault(fault.map { "\(who): \($0)" } ?? "\(who) answers again")
                }
            }
            lastFault[next] = fault
            sample.offline = health[next].offline
            for note in takeLineNotes() { onFault(note) }
            emit(sample)
            due[next] = due[next].advanced(by: health[next].nextInterval(interval))
            if due[next] < clock.now {  // overran: skip the missed slots
                let behind = due[next].duration(to: clock.now)
                let slots = Int((behind / interval).rounded(.up))
                due[next] = due[next].advanced(by: interval * slots)
            }
        }
    }
}

extension ModbusConnection {
    /// Reads one device's channels and decodes them. A failed block yields missing readings with
    /// the failure's reason; it never yields 0 or the previous value.
    public func poll(device: DeviceConfig, plan: ReadPlan) -> DeviceSample {
        pollOnce(device: device, plan: plan).sample
    }

    /// One poll, and whether the device answered at all (any reply, an exception included).
    func pollOnce(device: DeviceConfig, plan: ReadPlan) -> (sample: DeviceSample, answered: Bool) {
        let started = ContinuousClock.now
        let wall = Date().timeIntervalSince1970
        var mono = timespec()
        clock_gettime(CLOCK_BOOTTIME, &mono)
        var readings = [Reading?](repeating: nil, count: device.channels.count)
        var failure: ModbusError? = nil
        var answered = false
        for block in plan.blocks {
            if let failure, failure.code == .timeout || failure.code == .connection || failure.code == .permission {
                for m in block.members { readings[m.channelIndex] = missing(device.channels[m.channelIndex], failure) }
                continue
            }
            do {
                let words = try read(slave: device.slave, function: block.function, address: block.address, count: block.count)
                answered = true
                for m in block.members {
                    let ch = device.channels[m.channelIndex]
                    let slice = words[m.offset..<min(words.count, m.offset + ch.count)]
                    let raw = RegisterCodec.decodeRaw(slice, type: ch.type, order: ch.order)
                    readings[m.channelIndex] = Reading.classify(raw: raw, channel: ch)
                }
            } catch {
                failure = error
                // A gateway's "path unavailable" or "target failed to respond" (exceptions 10, 11)
                // is the gateway answering for a device that did not.
                let silent = error.code == .timeout || error.code == .connection || error.code == .permission
                    || (error.code == .exception && (error.exception == 10 || error.exception == 11))
                if !silent { answered = true }
                for m in block.members { readings[m.channelIndex] = missing(device.channels[m.channelIndex], error) }
            }
        }
        let ms = Double(started.duration(to: .now).components.attoseconds) / 1e15 + Double(started.duration(to: .now).components.seconds) * 1000
        let sample = DeviceSample(device: device.name, time: wall, monotonic: Double(mono.tv_sec) + Double(mono.tv_nsec) / 1e9,
                                  clockSynced: CPlatform_clock_synced() != 0,
                                  readings: readings.enumerated().map { $1 ?? missing(device.channels[$0], ModbusError(.badData, "not read")) },
                                  durationMS: ms)
        return (sample, answered || plan.blocks.isEmpty)
    }

    private nonisolated func missing(_ ch: ChannelSpec, _ error: ModbusError) -> Reading {
        Reading(channel: ch.name, value: nil, quality: .commFault, unit: ch.unit, fault: error.reason)
    }
}
