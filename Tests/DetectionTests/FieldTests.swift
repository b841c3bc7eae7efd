import Detection
import Foundation
import Testing

@Suite("Soil moisture and scales")
struct FieldTests {
    @Test("irrigation steps, drying and the daily wiggle never alert")
    func soilNormal() {
        var d = detector(.soilMoisture)
        let run = Run(&d, Synthetic.soil(days: 14))
        #expect(run.raises.isEmpty, "raised: \(run.raises.map(\.message))")
    }

    @Test("a probe pulled out of the ground is a deviation; a few spikes are a spike alert")
    func soilFaults() {
        var samples = Synthetic.soil(days: 4)
        let pulled = 2 * 288
        for i in pulled..<(pulled + 100) { samples[i].value = 0.8 }
        var d = detector(.soilMoisture)
        let run = Run(&d, samples)
        #expect(run.raises.count == 1)
        #expect(run.raises.first?.kind == .deviation)
        #expect(run.raises.first?.message.contains("probe") == true)
        #expect(run.firstAlert.map { $0 - pulled <= 2 } == true)

        var spiky = Synthetic.soil(days: 3, seed: 5)
        for k in 0..<4 { spiky[400 + 5 * k].value = 70 + Double(k) * 5 }
        var e = detector(.soilMoisture)
        let r2 = Run(&e, spiky)
        #expect(r2.raises.count == 1)
        #expect(r2.raises.first?.kind == .spike)
    }

    @Test("a single spike does not alert")
    func singleSpike() {
        var samples = Synthetic.soil(days: 3, seed: 6)
        samples[500].value = 90
        var d = detector(.soilMoisture)
        #expect(Run(&d, samples).raises.isEmpty)
    }

    @Test("loading and unloading a scale never alerts")
    func scaleNormal() {
        var d = detector(.weight)
        let run = Run(&d, Synthetic.scale(days: 7))
        #expect(run.raises.isEmpty, "raised: \(run.raises.map(\.message))")
    }

    @Test("a slow loss at night without a step is a rate alert; negative weight is out of range")
    func scaleFaults() throws {
        var samples = Synthetic.scale(days: 3)
        let start = 2 * 2880 + 2 * 120  // 02:00 on day 3
        for i in start..<samples.count {
            let k = Double(min(i - start, 30))
            samples[i].value = (samples[i].value ?? 0) - 5 * k  // 150 kg over 15 minutes
        }
        var d = detector(.weight)
        let run = Run(&d, samples)
        let first = try #require(run.firstAlert)
        #expect(first >= start && first < start + 30)
        #expect(run.raises.count == 1)
        #expect(run.raises.first?.kind == .rate)
        #expect(run.raises.first?.message.contains("lost") == true)

        var e = detector(.weight)
        _ = e.update(time: t0, value: 1000)
        let negative = e.update(time: t0 + 30, value: -1500)
        #expect(negative.event?.kind == .outOfRange)
    }
}
