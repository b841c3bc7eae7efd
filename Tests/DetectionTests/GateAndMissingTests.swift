import Detection
import Testing

@Suite("Hysteresis, minimum duration and missing readings")
struct GateAndMissingTests {
    @Test("a score flapping around the raise level opens one episode, not many")
    func noFlapping() {
        var gate = HysteresisGate(raiseLevel: 0.8, clearLevel: 0.3, raiseAfter: 0, clearAfter: 600)
        var transitions: [HysteresisGate.Transition] = []
        for i in 0..<200 {
            let score = i % 2 == 0 ? 0.9 : 0.5  // never below the clear level
            transitions.append(gate.update(time: Double(i) * 60, score: score))
        }
        #expect(transitions.filter { $0 == .raised }.count == 1)
        #expect(transitions.filter { $0 == .cleared }.isEmpty)
        // Dips below the clear level shorter than clearAfter do not clear either.
        for i in 200..<300 {
            let score = i % 5 == 0 ? 0.9 : 0.1
            transitions.append(gate.update(time: Double(i) * 60, score: score))
        }
        #expect(transitions.filter { $0 == .cleared }.isEmpty)
        // A quiet stretch longer than clearAfter clears exactly once.
        for i in 300..<320 { transitions.append(gate.update(time: Double(i) * 60, score: 0)) }
        #expect(transitions.filter { $0 == .cleared }.count == 1)
        #expect(!gate.active)
    }

    @Test("every in-range sentinel of a long list is recognised, within its tolerance only")
    func manySentinels() {
        var config = DetectorConfig.defaults(for: .generic)
        config.sentinels = [101, 102, 103, 104, 105, 106, -5000]    // six inside the (unbounded) range
        config.sentinelTolerance = 1e-3
        for (value, isSentinel) in [(101.0, true), (104.0005, true), (105.0, true), (106.0, true), (-5000.0, true),
                                    (105.01, false), (100.0, false), (106.002, false)] {
            var d = ChannelDetector(channel: "s", config: config)
            let out = d.update(time: t0, value: value)
            #expect((out.kind == .sentinel) == isSentinel, "\(value): \(String(describing: out.kind))")
            #expect(out.score == (isSentinel ? 1 : 0), "\(value)")
        }
    }

    @Test("raiseAfter is a minimum duration above the raise level")
    func minimumDuration() {
        var gate = HysteresisGate(raiseLevel: 0.8, clearLevel: 0.3, raiseAfter: 300, clearAfter: 0)
        do { let tr = gate.update(time: 0, score: 1); #expect(tr == .none) }
        do { let tr = gate.update(time: 240, score: 1); #expect(tr == .none) }
        #expect(gate.update(time: 260, score: 0.5) == .none)  // interrupted: starts over
        do { let tr = gate.update(time: 300, score: 1); #expect(tr == .none) }
        do { let tr = gate.update(time: 599, score: 1); #expect(tr == .none) }
        do { let tr = gate.update(time: 600, score: 1); #expect(tr == .raised) }
        do { let tr = gate.update(time: 660, score: 0.1); #expect(tr == .cleared) }
    }

    @Test("one missed read is nothing; ten minutes without readings is a no_data alert that clears")
    func missing() {
        var d = detector(.coldRoom)
        var t = t0
        for _ in 0..<30 { _ = d.update(time: t, value: 3.5 + (t.truncatingRemainder(dividingBy: 120) == 0 ? 0.1 : 0)); t += 60 }
        let one = d.update(time: t, value: nil)
        #expect(!one.alert)
        t += 60
        var raised: AlertEvent?
        for _ in 0..<12 {
            let o = d.update(time: t, value: nil)
            if let e = o.event { raised = e }
            t += 60
        }
        #expect(raised?.kind == .noData)
        #expect(raised?.value == nil)
        var cleared: AlertEvent?
        for i in 0..<40 {
            let o = d.update(time: t, value: 3.5 + Double(i % 2) * 0.1)
            if let e = o.event { cleared = e }
            t += 60
        }
        #expect(cleared?.phase == .clear)
        #expect(cleared?.kind == .noData)
    }

    @Test("a clock jumping backwards neither crashes nor alerts")
    func clockJump() {
        var d = detector(.coldRoom)
        var outputs: [DetectorOutput] = []
        for i in 0..<300 { outputs.append(d.update(time: t0 + Double(i) * 60, value: 3.5 + Double(i % 3) * 0.1)) }
        for i in 0..<300 { outputs.append(d.update(time: t0 - 86_400 + Double(i) * 60, value: 3.5 + Double(i % 3) * 0.1)) }
        #expect(outputs.allSatisfy { !$0.alert })
    }
}
