import Detection
import Testing

@Suite("Farmer rules")
struct RuleTests {
    @Test("above 8 °C for 15 minutes: raises after 15 minutes, not before; one episode; clears with hysteresis")
    func thresholdWithDuration() {
        var m = ThresholdMonitor(rule: ThresholdRule(
            channel: "cold-room-1.temperature", above: 8, duration: 900, hysteresis: 0.5, clearAfter: 300,
            severity: .critical, unit: "°C"))
        var events: [(Int, AlertEvent)] = []
        // 10 minutes above, a dip, then 20 minutes above, then oscillating near the limit, then cold.
        var values = [Double](repeating: 9, count: 10) + [7.9] + [Double](repeating: 9, count: 20)
        values += (0..<20).map { $0 % 2 == 0 ? 7.8 : 8.2 }
        values += [Double](repeating: 4, count: 10)
        for (i, v) in values.enumerated() {
            if let e = m.update(time: Double(i) * 60, value: v) { events.append((i, e)) }
        }
        #expect(events.count == 2)
        #expect(events.first?.0 == 11 + 15)
        #expect(events.first?.1.phase == .raise)
        #expect(events.first?.1.message.contains("above 8.0°C for 15 min") == true)
        #expect(events.last?.1.phase == .clear)
        #expect(events.last?.0 == 51 + 5)
        // Missing readings do not break or start a run.
        let none = m.update(time: 10_000, value: nil)
        #expect(none == nil)
    }

    @Test("degree-minutes: 2 °C above safe for 3 hours uses 360 °C·min; 60 % and 100 % alerts fire once each")
    func degreeMinuteBudget() {
        let budget = SpoilageBudget(
            channel: "room-2.temperature", commodity: "onions", room: "room 2",
            model: .degreeMinutes(safe: 4, budget: 500), alertShares: [0.6, 1.0])
        var m = SpoilageMonitor(budget: budget)
        var events: [(Int, AlertEvent)] = []
        for i in 0...300 {
            if let e = m.update(time: Double(i) * 60, value: i < 60 ? 3 : 6) { events.append((i, e)) }
        }
        // Minutes 60...299 at 6 °C integrate 240 × 2 = 480 °C·min; 60 % (300) is reached after 150 min.
        #expect(abs(m.used - 480.0 / 500) < 1e-9)
        #expect(events.count == 1)
        #expect(events.first?.0 == 60 + 150)
        #expect(events.first?.1.severity == .warning)
        #expect(events.first?.1.message == "Onions in room 2 have used 60 % of their heat budget. Keep the room cold and plan to move them.")
        for i in 301...400 {
            if let e = m.update(time: Double(i) * 60, value: 6) { events.append((i, e)) }
        }
        #expect(events.count == 2)
        #expect(events.last?.1.severity == .critical)
        let reset = m.reset(time: 30_000)
        #expect(reset?.phase == .clear)
        #expect(m.used == 0)
    }

    @Test("gaps longer than maxGap are not integrated at the last temperature")
    func gapCap() {
        var m = SpoilageMonitor(budget: SpoilageBudget(
            channel: "c", commodity: "x", room: "r", model: .degreeMinutes(safe: 0, budget: 1000), maxGap: 600))
        _ = m.update(time: 0, value: 10)
        _ = m.update(time: 86_400, value: 10)  // a day-long outage counts as 10 minutes
        #expect(abs(m.used - 100.0 / 1000) < 1e-9)
    }

    @Test("Q10 model: at the reference temperature the share is time / shelf life; 10 °C warmer is q10 times faster")
    func q10() {
        let model = SpoilageBudget.Model.q10(reference: 4, shelfLifeHours: 100, q10: 2.5)
        #expect(abs(SpoilageMonitor.rate(model, temperature: 4) * 3600 * 100 - 1) < 1e-12)
        #expect(abs(SpoilageMonitor.rate(model, temperature: 14) / SpoilageMonitor.rate(model, temperature: 4) - 2.5) < 1e-9)
        #expect(abs(SpoilageMonitor.rate(model, temperature: 9) / SpoilageMonitor.rate(model, temperature: 4) - 2.5.squareRoot()) < 1e-9)
        var m = SpoilageMonitor(budget: SpoilageBudget(channel: "c", commodity: "apples", room: "r", model: model))
        for k in 0...300 { _ = m.update(time: Double(k) * 600, value: 4) }  // 50 h
        #expect(abs(m.used - 0.5) < 1e-9)
    }
}
