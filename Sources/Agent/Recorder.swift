internal import CPlatform
public import EdgeCore
internal import Detection
internal import Foundation
public import Logging
public import Outbox
public import ServiceLifecycle

/// Commits every poll to the outbox before anything publishes it (ARCHITECTURE.md, invariant 1).
///
/// Samples that arrive together are committed in one transaction (fewer flash writes per reading);
/// each gets the device's next sequence number, kept in the same transaction so numbering
/// survives restarts. It stops when the polling stream ends, after committing all of it.
public struct Recorder: Service {
    private let site: Site
    private let outbox: Outbox
    private let queue: SampleQueue
    private let onCommit: @Sendable () -> Void
    private let logger: Logger

    public init(site: Site, outbox: Outbox, queue: SampleQueue, logger: Logger, onCommit: @escaping @Sendable () -> Void) {
        self.site = site
        self.outbox = outbox
        self.queue = queue
        self.logger = logger
        self.onCommit = onCommit
    }

    public static let baselineKey = "alert-engine"
    public static let baselineEvery: Duration = .seconds(300)

    public func run() async throws {
        var sequences = try await outbox.sequences()
        // Above every number a damaged, moved-aside outbox held, when its numbers were unreadable.
        let floor = try await outbox.sequenceFloor()
        var engine = AlertEngine(site: site)
        if let saved = try await outbox.loadState(Self.baselineKey) {
            let restored = engine.restore(saved)
            logger.info("detector baselines restored", metadata: ["channels": "\(restored)"])
        }
        var lastBaselineSave = ContinuousClock.now
        var alertSeq: UInt64 = sequences["/alerts"] ?? floor
        var lastRetention = ContinuousClock.now.advanced(by: .seconds(-3600))
        var committed = 0
        var carry: [DeviceSample] = []  // polls whose commit failed (disk full): kept and retried
        /// Commits one batch (with what an earlier failed commit left), and does the periodic upkeep.
        func record(_ fresh: [DeviceSample], _ dropped: Int) async {
            let batch = carry + fresh
            if dropped > 0 {
                logger.error("readings dropped: the outbox could not keep up", metadata: ["dropped": "\(dropped)"])
            }
            var messages: [NewMessage] = []
            var touched: [String: UInt64] = [:]
            var next = sequences
            var nextAlertSeq = alertSeq
            let engineBefore = engine
            for sample in batch {
                let seq = (next[sample.device] ?? floor) + 1
                next[sample.device] = seq
                touched[sample.device] = seq
                messages.append(NewMessage(lane: .readings, topic: site.stateTopic(device: sample.device),
                                           payload: StatePayload.encode(sample, seq: seq, site: site.site), created: sample.time))
                // Alerts go into the same transaction, in the lane that leaves ahead of the backlog.
                let events = engine.process(sample)
                for e in events {
                    nextAlertSeq += 1
                    messages.append(NewMessage(lane: .alerts, topic: site.alertsTopic,
                                               payload: engine.eventPayload(e, device: sample.device, seq: nextAlertSeq), created: sample.time))
                    logger.notice("alert \(e.phase.rawValue): \(e.message)", metadata: ["channel": "\(e.channel)", "kind": "\(e.kind.rawValue)"])
                }
                if !events.isEmpty {
                    messages.append(NewMessage(lane: .alerts, topic: site.activeAlertsTopic, payload: engine.activePayload(time: sample.time),
                                               retain: true, created: sample.time))
                }
            }
            if nextAlertSeq != alertSeq { touched["/alerts"] = nextAlertSeq }
            // An alert raised or cleared: the engine's state goes into the same transaction, so a
            // restart (a crash, the watchdog) finds the episode exactly as published.
            let state = nextAlertSeq != alertSeq ? [Self.baselineKey: engine.snapshot()] : [:]
            do {
                try await outbox.append(messages, sequences: touched, state: state)
                sequences = next
                alertSeq = nextAlertSeq
                carry.removeAll()
                committed += messages.count
                onCommit()
            } catch {
                if error.code == .diskFull {
                    // The card is full: make room by dropping the oldest undelivered readings
                    // (counted), so the newest keep being recorded.
                    do {
                        let dropped = try await outbox.relieveFullDisk()
                        logger.error("disk full: dropped the oldest undelivered readings to keep recording", metadata: ["dropped": "\(dropped)"])
                    } catch {
                        logger.critical("disk full and no room could be freed", metadata: ["error": "\(error)"])
                    }
                }
                logger.error("could not store readings; holding them in memory and retrying", metadata: ["error": "\(error)", "polls": "\(batch.count)"])
                carry = Array(batch.suffix(queue.capacity))
                engine = engineBefore  // the same polls go through the detectors again on retry
            }
            if lastBaselineSave.duration(to: .now) > Self.baselineEvery {
                lastBaselineSave = .now
                // A health line an installer can read in `journalctl -u coop-edge`.
                if let stats = try? await outbox.stats() {
                    let oldest = stats.oldestPending.map { "\(Int(Date().timeIntervalSince1970 - $0)) s" } ?? "none"
                    logger.info("health", metadata: [
                        "polls_recorded": "\(committed)", "pending": "\(stats.pendingReadings + stats.pendingAlerts)",
                        "oldest_pending": "\(oldest)", "delivered": "\(stats.delivered)", "dropped": "\(stats.dropped)",
                        "active_alerts": "\(engine.active.count)",
                    ])
                }
                do { try await outbox.saveState(Self.baselineKey, engine.snapshot()) }
                catch { logger.warning("could not save detector baselines", metadata: ["error": "\(error)"]) }
            }
            if lastRetention.duration(to: .now) > .seconds(600) {
                lastRetention = .now
                do {
                    // Ages only count with a set clock (FIELD-NOTES: a Pi without an RTC boots in the past).
                    let clockSet = CPlatform_clock_synced() == 1
                    let dropped = try await outbox.enforceRetention(now: clockSet ? Date().timeIntervalSince1970 : nil)
                    if dropped > 0 { logger.warning("retention dropped undelivered messages", metadata: ["dropped": "\(dropped)"]) }
                } catch {
                    logger.error("retention failed", metadata: ["error": "\(error)"])
                }
            }
        }
        await queue.consume { fresh, dropped in await record(fresh, dropped) }
        if !carry.isEmpty {
            // The last commit failed (a full or read-only card) and polling has ended: one more try,
            // then say how many polls are given up rather than losing them in silence.
            await record([], 0)
            if !carry.isEmpty {
                logger.critical("polls that could not be stored are lost at shutdown", metadata: ["polls": "\(carry.count)"])
            }
        }
        do { try await outbox.saveState(Self.baselineKey, engine.snapshot()) }
        catch { logger.warning("could not save detector baselines", metadata: ["error": "\(error)"]) }
        logger.info("recorder drained", metadata: ["committed": "\(committed)"])
    }
}

extension Recorder: CustomStringConvertible {
    public var description: String { "Recorder(\(outbox.config.path))" }
}
