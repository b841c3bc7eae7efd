public import EdgeCore

/// A poll to store: the sample and the sequence number it was given.
public struct PollRecord: Sendable, Equatable {
    public var sample: DeviceSample
    public var seq: UInt64

    public init(sample: DeviceSample, seq: UInt64) {
        self.sample = sample
        self.seq = seq
    }
}

/// How a stored poll becomes the message published for it (topic and payload): the agent's
/// `StatePayload` under the site's topic. Runs on the outbox's thread when the publisher reads.
public typealias PollRenderer = @Sendable (_ sample: DeviceSample, _ seq: UInt64) -> (topic: String, payload: [UInt8])

/// The compact form of a poll in the `polls` table: values, not JSON text.
///
/// What does not change from poll to poll (the device, its channels' names and units) is stored once
/// in `shapes`; a row holds the shape's id, `seq`, `time` and a blob of
/// `flags(1: bit 0 clock synced, bit 1 offline, bit 2 re-stamped) { tag(1) [value: f64 LE (8)] [fault: len(varint) utf8] }*` — 9 bytes per good reading,
/// where the JSON payload spends about 60. The value is kept bit for bit, so the payload published
/// later is the one that would have been built at poll time.
enum PollCodec {
    struct Shape: Hashable {
        var device: String
        var channels: [String]
        var units: [String]
    }

    static func shape(of sample: DeviceSample) -> Shape {
        Shape(device: sample.device, channels: sample.readings.map(\.channel), units: sample.readings.map(\.unit))
    }

    private static let qualities = Quality.allCases

    static func encode(_ shape: Shape) -> [UInt8] {
        var out: [UInt8] = []
        varint(UInt64(shape.channels.count), &out)
        for (c, u) in zip(shape.channels, shape.units) {
            string(c, &out)
            string(u, &out)
        }
        return out
    }

    static func decodeShape(device: String, _ blob: [UInt8]) -> Shape? {
        var r = Reader(bytes: blob)
        guard let n = r.varint(), n < 65_536 else { return nil }
        var shape = Shape(device: device, channels: [], units: [])
        for _ in 0..<n {
            guard let c = r.string(), let u = r.string() else { return nil }
            shape.channels.append(c)
            shape.units.append(u)
        }
        return shape
    }

    static func encodeValues(_ sample: DeviceSample) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1 + 9 * sample.readings.count)
        out.append((sample.clockSynced ? 1 : 0) | (sample.offline ? 2 : 0) | (sample.restamped ? 4 : 0))
        for r in sample.readings {
            let q = UInt8(qualities.firstIndex(of: r.quality) ?? 0)
            out.append(q | (r.value != nil ? 0x10 : 0) | (r.fault != nil ? 0x20 : 0))
            if let v = r.value {
                var bits = v.bitPattern.littleEndian
                withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
            }
            if let f = r.fault { string(f, &out) }
        }
        return out
    }

    static func decode(_ blob: [UInt8], shape: Shape, time: Double) -> DeviceSample? {
        var r = Reader(bytes: blob)
        guard let flags = r.byte() else { return nil }
        var readings: [Reading] = []
        readings.reserveCapacity(shape.channels.count)
        for i in shape.channels.indices {
            guard let tag = r.byte(), Int(tag & 0x0F) < qualities.count else { return nil }
            var value: Double? = nil
            if tag & 0x10 != 0 {
                guard let bits = r.uint64() else { return nil }
                value = Double(bitPattern: bits)
            }
            var fault: String? = nil
            if tag & 0x20 != 0 {
                guard let f = r.string() else { return nil }
                fault = f
            }
            readings.append(Reading(channel: shape.channels[i], value: value, quality: qualities[Int(tag & 0x0F)],
                                    unit: shape.units[i], fault: fault))
        }
        var sample = DeviceSample(device: shape.device, time: time, monotonic: 0, clockSynced: flags & 1 != 0, readings: readings)
        sample.offline = flags & 2 != 0
        sample.restamped = flags & 4 != 0
        return sample
    }

    private static func varint(_ v: UInt64, _ out: inout [UInt8]) {
        var v = v
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        out.append(UInt8(v))
    }

    private static func string(_ s: String, _ out: inout [UInt8]) {
        let u = Array(s.utf8)
        varint(UInt64(u.count), &out)
        out.append(contentsOf: u)
    }

    private struct Reader {
        let bytes: [UInt8]
        var at = 0
        mutating func byte() -> UInt8? {
            guard at < bytes.count else { return nil }
            defer { at += 1 }
            return bytes[at]
        }
        mutating func varint() -> UInt64? {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while let b = byte() {
                v |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return v }
                shift += 7
                if shift > 63 { return nil }
            }
            return nil
        }
        mutating func uint64() -> UInt64? {
            guard at + 8 <= bytes.count else { return nil }
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
            at += 8
            return v
        }
        mutating func string() -> String? {
            guard let n = varint(), n <= UInt64(bytes.count - at) else { return nil }
            defer { at += Int(n) }
            return String(decoding: bytes[at..<at + Int(n)], as: UTF8.self)
        }
    }
}
