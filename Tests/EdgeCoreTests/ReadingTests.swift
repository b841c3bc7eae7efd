import Testing
@testable import EdgeCore

@Suite("Reading.classify")
struct ReadingTests {
    // The th-transmitter's temperature channel.
    let temperature = ChannelSpec(name: "temperature", function: .input, address: 1, type: .i16, scale: 0.1, unit: "°C",
                                  kind: "temperature", valid: -40...60, sentinels: [0x7FFF])

    @Test("a value inside the valid range is good")
    func good() {
        #expect(Reading.classify(raw: 41, channel: temperature)
                == Reading(channel: "temperature", value: 4.1, quality: .good, unit: "°C"))
        #expect(Reading.classify(raw: -123, channel: temperature).value == -12.3)
    }

    @Test("the valid range is inclusive at both ends")
    func inclusive() {
        #expect(Reading.classify(raw: 600, channel: temperature).quality == .good)
        #expect(Reading.classify(raw: -400, channel: temperature).quality == .good)
        #expect(Reading.classify(raw: 601, channel: temperature).quality == .outOfRange)
        #expect(Reading.classify(raw: -401, channel: temperature).quality == .outOfRange)
    }

    @Test("out of range keeps the value and has no fault")
    func outOfRange() {
        let r = Reading.classify(raw: 700, channel: temperature)
        #expect(r == Reading(channel: "temperature", value: 70, quality: .outOfRange, unit: "°C", fault: nil))
        #expect(r.quality.rawValue == "out_of_range")
    }

    @Test("a sentinel is compared raw, before scaling, and has no value")
    func sentinel() {
        let r = Reading.classify(raw: 32767, channel: temperature)
        #expect(r == Reading(channel: "temperature", value: nil, quality: .sentinel, unit: "°C", fault: "sensor reports no reading"))
        // 3276.7 is the scaled sentinel: it is an (out-of-range) value, not a sentinel.
        #expect(Reading.classify(raw: 3276.7, channel: temperature).quality == .outOfRange)
        let humidity = ChannelSpec(name: "humidity", function: .input, address: 2, type: .u16, scale: 0.1, unit: "%RH",
                                   valid: 0...100, sentinels: [0xFFFF])
        #expect(Reading.classify(raw: 65535, channel: humidity).quality == .sentinel)
        #expect(Reading.classify(raw: 65534, channel: humidity).quality == .outOfRange)
    }

    @Test("a sentinel wins over the valid range, and several sentinels are all honoured")
    func sentinelsFirst() {
        var c = temperature
        c.sentinels = [0, -32768]
        #expect(Reading.classify(raw: 0, channel: c).quality == .sentinel)
        #expect(Reading.classify(raw: -32768, channel: c).quality == .sentinel)
        #expect(Reading.classify(raw: 1, channel: c).quality == .good)
    }

    @Test("NaN (a short frame or an f32 NaN) is no reading, never a value")
    func notANumber() {
        let r = Reading.classify(raw: .nan, channel: temperature)
        #expect(r.value == nil)
        #expect(r.quality == .sentinel)
        #expect(r.fault == "not a number")
        let f = ChannelSpec(name: "f", function: .holding, address: 0, type: .f32)
        #expect(Reading.classify(raw: .infinity, channel: f).value == nil)
    }

    @Test("without a valid range every finite value is good")
    func noRange() {
        let c = ChannelSpec(name: "count", function: .holding, address: 0, type: .u32)
        #expect(Reading.classify(raw: 4_294_967_295, channel: c) == Reading(channel: "count", value: 4_294_967_295, quality: .good, unit: ""))
    }

    @Test("decode then classify, as the poller does")
    func pipeline() {
        let raw = RegisterCodec.decodeRaw([0xFF85], type: .i16, order: .abcd)
        #expect(Reading.classify(raw: raw, channel: temperature).value == -12.3)
        let short = RegisterCodec.decodeRaw([UInt16](), type: .i16, order: .abcd)
        #expect(Reading.classify(raw: short, channel: temperature).quality == .sentinel)
    }

    @Test("quality raw values are the published strings")
    func qualityStrings() {
        #expect(Quality.allCases.map(\.rawValue) == ["good", "out_of_range", "sentinel", "comm_fault"])
    }
}
