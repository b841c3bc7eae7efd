import Foundation
import Testing
@testable import EdgeCore

/// Parses JSON with Foundation's parser, independent of the writer under test.
func parseJSON(_ bytes: [UInt8]) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
}

func parseObject(_ bytes: [UInt8]) throws -> [String: Any] {
    try #require(try parseJSON(bytes) as? [String: Any], "not a JSON object: \(String(decoding: bytes, as: UTF8.self))")
}

@Suite("StatePayload")
struct StatePayloadTests {
    let sample = DeviceSample(
        device: "cold-room-1", time: 1_795_755_600.12, monotonic: 1234.5, clockSynced: true,
        readings: [
            Reading(channel: "temperature", value: 4.1, quality: .good, unit: "°C"),
            Reading(channel: "humidity", value: nil, quality: .sentinel, unit: "%RH", fault: "sensor reports no reading"),
            Reading(channel: "door", value: 1, quality: .outOfRange, unit: ""),
        ])

    @Test("the encoded payload parses as JSON with every documented field")
    func fields() throws {
        let json = try parseObject(StatePayload.encode(sample, seq: 42, site: "farm-17"))
        #expect(Set(json.keys) == ["device", "seq", "key", "ts", "time", "clock_synced", "readings"])
        #expect(json["device"] as? String == "cold-room-1")
        #expect((json["seq"] as? NSNumber)?.uint64Value == 42)
        #expect(json["key"] as? String == "farm-17/cold-room-1/42")
        #expect(json["ts"] as? String == "2026-11-27T05:00:00.120Z")
        #expect((json["time"] as? NSNumber)?.doubleValue == 1_795_755_600.12)
        #expect((json["clock_synced"] as? NSNumber) == NSNumber(value: true))

        let readings = try #require(json["readings"] as? [String: Any])
        #expect(Set(readings.keys) == ["temperature", "humidity", "door"])
        let t = try #require(readings["temperature"] as? [String: Any])
        #expect((t["value"] as? NSNumber)?.doubleValue == 4.1)
        #expect(t["unit"] as? String == "°C")
        #expect(t["quality"] as? String == "good")
        #expect(t["fault"] == nil)
        let h = try #require(readings["humidity"] as? [String: Any])
        #expect(h["value"] is NSNull, "a missing value is null, never 0")
        #expect(h["quality"] as? String == "sentinel")
        #expect(h["fault"] as? String == "sensor reports no reading")
        let d = try #require(readings["door"] as? [String: Any])
        #expect((d["value"] as? NSNumber)?.intValue == 1)
        #expect(d["quality"] as? String == "out_of_range")
    }

    @Test("a backlog message: one device, historical, its polls in order, each poll exactly a one-poll payload but device")
    func batch() throws {
        var later = sample
        later.time += 60
        let bytes = StatePayload.encodeBatch(device: "cold-room-1", polls: [(sample, 41), (later, 42)], site: "farm-17")
        let json = try parseObject(bytes)
        #expect(Set(json.keys) == ["device", "historical", "polls"])
        #expect(json["device"] as? String == "cold-room-1")
        #expect((json["historical"] as? NSNumber) == NSNumber(value: true))
        let polls = try #require(json["polls"] as? [[String: Any]])
        #expect(polls.count == 2)
        #expect(polls.map { $0["key"] as? String } == ["farm-17/cold-room-1/41", "farm-17/cold-room-1/42"])
        // Each element is the single-poll payload without "device", byte for byte.
        let elements = [(sample, UInt64(41)), (later, UInt64(42))].map { s, seq in
            String(decoding: StatePayload.encode(s, seq: seq, site: "farm-17"), as: UTF8.self)
                .replacingOccurrences(of: #"{"device":"cold-room-1","#, with: "{")
        }
        #expect(String(decoding: bytes, as: UTF8.self)
            == #"{"device":"cold-room-1","historical":true,"polls":["# + elements.joined(separator: ",") + "]}")
    }

    @Test("the exact bytes: compact, keys in the documented order, readings in profile order")
    func exactBytes() {
        let s = DeviceSample(device: "d", time: 0.5, monotonic: 0, clockSynced: false,
                             readings: [Reading(channel: "b", value: 4.1, quality: .good, unit: "u"),
                                        Reading(channel: "a", value: -0.0, quality: .commFault, unit: "", fault: "timeout")])
        let text = String(decoding: StatePayload.encode(s, seq: 7, site: "s"), as: UTF8.self)
        #expect(text == #"{"device":"d","seq":7,"key":"s/d/7","ts":"1970-01-01T00:00:00.500Z","time":0.5,"clock_synced":false,"#
            + #""readings":{"b":{"value":4.1,"unit":"u","quality":"good"},"a":{"value":0,"unit":"","quality":"comm_fault","fault":"timeout"}}}"#)
    }

    @Test("time is rounded to milliseconds")
    func timeRounding() throws {
        var s = sample
        s.time = 1_795_755_600.123_456
        let json = try parseObject(StatePayload.encode(s, seq: 1, site: "x"))
        #expect((json["time"] as? NSNumber)?.doubleValue == 1_795_755_600.123)
        #expect(json["ts"] as? String == "2026-11-27T05:00:00.123Z")
    }

    @Test("no readings gives an empty readings object; a huge seq survives")
    func emptyReadings() throws {
        var s = sample
        s.readings = []
        let bytes = StatePayload.encode(s, seq: UInt64.max, site: "x")
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""seq":18446744073709551615,"#))
        let json = try parseObject(bytes)
        #expect((json["readings"] as? [String: Any])?.isEmpty == true)
    }

    @Test("non-finite values are written as null")
    func nonFinite() throws {
        var s = sample
        s.readings = [Reading(channel: "nan", value: .nan, quality: .good, unit: ""),
                      Reading(channel: "inf", value: .infinity, quality: .good, unit: ""),
                      Reading(channel: "ninf", value: -.infinity, quality: .good, unit: "")]
        let readings = try #require(try parseObject(StatePayload.encode(s, seq: 1, site: "x"))["readings"] as? [String: Any])
        for key in ["nan", "inf", "ninf"] {
            #expect((readings[key] as? [String: Any])?["value"] is NSNull, "\(key)")
        }
    }

    @Test("quotes, backslashes, control characters and non-ASCII survive escaping")
    func escaping() throws {
        let nasty = "a\"b\\c\nd\re\tf\u{01}g\u{1F}h\u{7F}i°C😀/</script>"
        var s = sample
        s.device = nasty
        s.readings = [Reading(channel: nasty, value: 1, quality: .commFault, unit: nasty, fault: "exception \"2\"\n")]
        let bytes = StatePayload.encode(s, seq: 3, site: "si\"te")
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains(#"a\"b\\c\nd\re\tf\u0001g\u001fh"#))
        #expect(!bytes.contains { $0 < 0x20 }, "no raw control bytes in the payload")
        let json = try parseObject(bytes)
        #expect(json["device"] as? String == nasty)
        #expect(json["key"] as? String == "si\"te/\(nasty)/3")
        let r = try #require((json["readings"] as? [String: Any])?[nasty] as? [String: Any])
        #expect(r["unit"] as? String == nasty)
        #expect(r["fault"] as? String == "exception \"2\"\n")
    }

    @Test("markHistorical adds historical:true as the last member and keeps everything else")
    func markHistorical() throws {
        let original = StatePayload.encode(sample, seq: 42, site: "farm-17")
        let marked = StatePayload.markHistorical(original)
        #expect(String(decoding: marked, as: UTF8.self).hasSuffix(#"}},"historical":true}"#))
        let before = try parseObject(original)
        let after = try parseObject(marked)
        #expect((after["historical"] as? NSNumber) == NSNumber(value: true))
        #expect(Set(after.keys) == Set(before.keys).union(["historical"]))
        #expect(after["key"] as? String == before["key"] as? String)
        #expect(after["ts"] as? String == before["ts"] as? String)
    }

    @Test("markHistorical leaves anything that is not one of our objects alone")
    func markHistoricalGuards() {
        #expect(StatePayload.markHistorical([]) == [])
        #expect(StatePayload.markHistorical(Array("{}".utf8)) == Array("{}".utf8))
        #expect(StatePayload.markHistorical(Array("[1,2]".utf8)) == Array("[1,2]".utf8))
        #expect(StatePayload.markHistorical(Array("{\"a\":1".utf8)) == Array("{\"a\":1".utf8))
    }
}

@Suite("JSONWriter")
struct JSONWriterTests {
    func number(_ v: Double?) -> String {
        var w = JSONWriter()
        w.number(nil, v)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    @Test("numbers: integers without a fraction, decimals in their shortest form, valid JSON throughout")
    func numbers() throws {
        #expect(number(4) == "4")
        #expect(number(-0.0) == "0")
        #expect(number(4.1) == "4.1")
        #expect(number(-12.3) == "-12.3")
        #expect(number(0.1 + 0.2) == "0.30000000000000004")
        #expect(number(999_999_999_999_999) == "999999999999999")
        #expect(number(nil) == "null")
        #expect(number(.nan) == "null")
        for v in [1e15, 1e16, -1e300, Double.leastNonzeroMagnitude, 1.7976931348623157e308, 123.456, 1e-7] {
            let parsed = try #require(try parseJSON(Array(number(v).utf8)) as? NSNumber, "\(number(v))")
            #expect(parsed.doubleValue == v, "\(number(v))")
        }
    }

    @Test("commas between members and elements, none after the last, nested containers")
    func structure() throws {
        var w = JSONWriter()
        w.beginObject()
        w.int("i", -5)
        w.beginArray("a")
        w.int(nil, 1); w.bool(nil, true); w.null(nil); w.string(nil, "s")
        w.beginObject(); w.endObject()
        w.beginArray(); w.endArray()
        w.endArray()
        w.beginObject("o"); w.number("n", 2.5); w.endObject()
        w.endObject()
        #expect(String(decoding: w.bytes, as: UTF8.self) == #"{"i":-5,"a":[1,true,null,"s",{},[]],"o":{"n":2.5}}"#)
        _ = try parseJSON(w.bytes)
    }

    @Test("random strings round-trip through the escaper")
    func randomStrings() throws {
        var rng = SeededGenerator(seed: 99)
        for _ in 0..<1000 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...24, using: &rng) {
                let pick = Int.random(in: 0..<4, using: &rng)
                let v: UInt32 = switch pick {
                case 0: UInt32.random(in: 0...0x1F, using: &rng)
                case 1: [0x22, 0x5C, 0x2F, 0x7F, 0x2028, 0x2029].randomElement(using: &rng)!
                case 2: UInt32.random(in: 0x20...0x7E, using: &rng)
                default: UInt32.random(in: 0xA0...0x10FFFF, using: &rng)
                }
                if let u = Unicode.Scalar(v) { scalars.append(u) }
            }
            let s = String(scalars)
            var w = JSONWriter()
            w.beginObject()
            w.string(s, s)
            w.endObject()
            let obj = try #require(try parseJSON(w.bytes) as? [String: String])
            if obj != [s: s] { Issue.record("\(s.debugDescription) → \(String(decoding: w.bytes, as: UTF8.self))"); return }
        }
    }
}

@Suite("Timestamp")
struct TimestampTests {
    @Test("known instants")
    func known() {
        #expect(Timestamp.iso8601(0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.iso8601(1_795_755_600.12) == "2026-11-27T05:00:00.120Z")
        #expect(Timestamp.iso8601(951_782_400) == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp.iso8601(951_868_799.999) == "2000-02-29T23:59:59.999Z")
        #expect(Timestamp.iso8601(1_709_164_800.5) == "2024-02-29T00:00:00.500Z")
        #expect(Timestamp.iso8601(4_102_444_800) == "2100-01-01T00:00:00.000Z")
        #expect(Timestamp.iso8601(253_402_300_799) == "9999-12-31T23:59:59.000Z")
    }

    @Test("milliseconds are truncated, never rounded up into the next second")
    func truncates() {
        #expect(Timestamp.iso8601(1_795_755_600.9999) == "2026-11-27T05:00:00.999Z")
    }

    // Bug: iso8601 floors t * 1000, and for many ms-exact times that product lands just below the integer.
    @Test("a millisecond-exact time keeps its milliseconds (no binary-fraction off-by-one)")
    func millisecondExact() {
        // 1.001 and 2182187855.107 are not exact in binary: × 1000 lands just below the integer.
        #expect(Timestamp.iso8601(1.001) == "1970-01-01T00:00:01.001Z")
        #expect(Timestamp.iso8601(2_182_187_855.107) == "2039-02-24T19:17:35.107Z")
    }

    @Test("negative and non-finite times fall back to the epoch")
    func invalid() {
        #expect(Timestamp.iso8601(-1) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.iso8601(.nan) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.iso8601(.infinity) == "1970-01-01T00:00:00.000Z")
    }

    @Test("known days since 1970")
    func knownDays() {
        #expect(Timestamp.days(year: 1970, month: 1, day: 1) == 0)
        #expect(Timestamp.days(year: 1969, month: 12, day: 31) == -1)
        #expect(Timestamp.days(year: 2000, month: 3, day: 1) == 11017)
        #expect(Timestamp.days(year: 2024, month: 2, day: 29) == 19782)
        #expect(Timestamp.days(year: 1, month: 1, day: 1) == -719_162)
        #expect(Timestamp.days(year: 9999, month: 12, day: 31) == 2_932_896)
        #expect(Timestamp.civil(fromDays: 19782) == (2024, 2, 29))
        #expect(Timestamp.civil(fromDays: -1) == (1969, 12, 31))
        #expect(Timestamp.civil(fromDays: 11016) == (2000, 2, 29))
        #expect(Timestamp.civil(fromDays: -719_162) == (1, 1, 1))
    }

    @Test("civil and days are inverses over ±8000 years")
    func inverse() {
        for z in stride(from: -3_000_000, through: 3_000_000, by: 97) {
            let (y, m, d) = Timestamp.civil(fromDays: z)
            if Timestamp.days(year: y, month: m, day: d) != z || !(1...12).contains(m) || !(1...31).contains(d) {
                Issue.record("\(z) → \(y)-\(m)-\(d)"); return
            }
        }
    }

    @Test("iso8601 agrees with Foundation's calendar on random whole-second times")
    func againstFoundation() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        var rng = SeededGenerator(seed: 1970)
        for _ in 0..<1000 {
            let seconds = Int.random(in: 0...7_258_118_400, using: &rng)  // to 2200
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second],
                                            from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            let expected = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.000Z",
                                  c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
            if Timestamp.iso8601(Double(seconds)) != expected {
                Issue.record("\(seconds): \(Timestamp.iso8601(Double(seconds))) ≠ \(expected)"); return
            }
        }
    }
}
