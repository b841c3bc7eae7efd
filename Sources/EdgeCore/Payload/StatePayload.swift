/// The JSON published on `…/{device}/state` for one poll. Documented in docs/payloads.md.
///
/// ```json
/// {"device":"cold-room-1","seq":42,"key":"farm-17/cold-room-1/42","ts":"2026-11-27T05:00:00.120Z",
///  "time":1795755600.12,"clock_synced":true,
///  "readings":{"temperature":{"value":4.1,"unit":"°C","quality":"good"}}}
/// ```
/// `key` is unique per site, device and poll: QoS 1 may deliver a message twice and the co-op side
/// drops the second copy by it. `seq` is never used twice: `Outbox.beginNumbering` reserves numbers ahead.
public enum StatePayload {
    public static func encode(_ sample: DeviceSample, seq: UInt64, site: String) -> [UInt8] {
        var w = JSONWriter(reserve: 128 + 64 * sample.readings.count)
        w.beginObject()
        w.string("device", sample.device)
        writePoll(sample, seq: seq, site: site, into: &w)
        w.endObject()
        return w.bytes
    }

    /// Several polls of one device in one message, oldest first, for a backlog that waited out an
    /// outage (issue 9: a day of readings drains in minutes, not hours):
    ///
    /// ```json
    /// {"device":"cold-room-1","historical":true,"polls":[
    ///   {"seq":41,"key":"farm-17/cold-room-1/41","ts":"…","time":…,"clock_synced":true,"readings":{…}},
    ///   {"seq":42,"key":"farm-17/cold-room-1/42",…}]}
    /// ```
    /// Each element carries exactly the members of a one-poll payload but `device`; its `key`
    /// still names that poll alone, so a co-op that drops duplicates by key keeps working.
    public static func encodeBatch(device: String, polls: [(sample: DeviceSample, seq: UInt64)], site: String) -> [UInt8] {
        let readings = polls.reduce(0) { $0 + $1.sample.readings.count }
        var w = JSONWriter(reserve: 64 + 96 * polls.count + 64 * readings)
        w.beginObject()
        w.string("device", device)
        w.bool("historical", true)
        w.beginArray("polls")
        for p in polls {
            w.beginObject(nil)
            writePoll(p.sample, seq: p.seq, site: site, into: &w)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// The members of one poll after `device`: seq, key, ts, time, clock_synced, readings.
    private static func writePoll(_ sample: DeviceSample, seq: UInt64, site: String, into w: inout JSONWriter) {
        w.int("seq", seq)
        w.string("key", "\(site)/\(sample.device)/\(seq)")
        w.string("ts", Timestamp.iso8601(sample.time))
        w.number("time", (sample.time * 1000).rounded() / 1000)
        w.bool("clock_synced", sample.clockSynced)
        if sample.restamped { w.bool("restamped", true) }
        if sample.offline { w.bool("offline", true) }
        w.beginObject("readings")
        for r in sample.readings {
            w.beginObject(r.channel)
            w.number("value", r.value)
            w.string("unit", r.unit)
            w.string("quality", r.quality.rawValue)
            if let fault = r.fault { w.string("fault", fault) }
            w.endObject()
        }
        w.endObject()
    }

    /// Marks a stored payload as historical (it waited out an outage) by adding
    /// `"historical":true` as its last member. Payloads are objects we wrote, so the last byte is `}`.
    public static func markHistorical(_ payload: [UInt8]) -> [UInt8] {
        guard payload.last == UInt8(ascii: "}"), payload.count > 2 else { return payload }
        var out = payload
        out.removeLast()
        out.append(contentsOf: Array(",\"historical\":true}".utf8))
        return out
    }
}

/// UTC timestamps without Foundation's formatters (which allocate per call).
public enum Timestamp {
    /// `2026-11-27T05:00:00.123Z` for seconds since 1970.
    public static func iso8601(_ t: Double) -> String {
        guard t.isFinite else { return "1970-01-01T00:00:00.000Z" }
        // Truncate to the millisecond, with a microsecond of slack for binary fractions (1.001 * 1000 = 1000.99999…).
        var ms = Int64((t * 1000 + 0.001).rounded(.down))
        if ms < 0 { ms = 0 }
        let days = Int(ms / 86_400_000)
        let rem = Int(ms % 86_400_000)
        let (y, m, d) = civil(fromDays: days)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rem / 3_600_000, 2)):\(pad(rem / 60_000 % 60, 2)):\(pad(rem / 1000 % 60, 2)).\(pad(rem % 1000, 3))Z"
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
    public static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// `20261127-093000` (UTC) for seconds since 1970: sortable, and no colons for tools that
    /// dislike them in file names.
    public static func fileStamp(_ t: Double) -> String {
        let s = t.isFinite ? max(0, Int(t.rounded(.down))) : 0
        let (y, m, d) = civil(fromDays: s / 86_400)
        let rem = s % 86_400
        return "\(pad(y, 4))\(pad(m, 2))\(pad(d, 2))-\(pad(rem / 3600, 2))\(pad(rem / 60 % 60, 2))\(pad(rem % 60, 2))"
    }

    /// A date to days since 1970-01-01 (inverse of `civil`).
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
