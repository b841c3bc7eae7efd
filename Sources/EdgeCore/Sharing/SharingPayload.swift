/// The JSON of the sharing messages (docs/operations.md, "What is published").
public enum SharingPayload {
    /// One window of one device, on `…/{device}/aggregate`:
    ///
    /// ```json
    /// {"device":"cold-room-1","seq":1966340,"key":"farm-17/cold-room-1/aggregate/1769706000",
    ///  "start":"2026-01-29T17:00:00.000Z","end":"2026-01-29T17:15:00.000Z","window_s":900,
    ///  "channels":{"humidity":{"unit":"%RH","count":900,"min":81.2,"mean":83.04,"max":85.9,"last":82.7}}}
    /// ```
    /// A channel without a good value in the window has `"count":0` and no statistics.
    public static func aggregate(_ s: AggregateSummary, site: String) -> [UInt8] {
        var w = JSONWriter(reserve: 160 + 96 * s.channels.count)
        w.beginObject()
        w.string("device", s.device)
        w.int("seq", s.seq)
        w.string("key", "\(site)/\(s.device)/aggregate/\(Int64(s.start))")
        w.string("start", Timestamp.iso8601(s.start))
        w.string("end", Timestamp.iso8601(s.end))
        w.number("window_s", s.end - s.start)
        w.beginObject("channels")
        for c in s.channels {
            w.beginObject(c.channel)
            w.string("unit", c.unit)
            w.int("count", c.count)
            if c.count > 0 {
                w.number("min", c.min)
                w.number("mean", c.mean)
                w.number("max", c.max)
                w.number("last", c.last)
            }
            w.endObject()
        }
        w.endObject()
        w.endObject()
        return w.bytes
    }

    /// The retained policy on `…/sharing`, published at every connect:
    ///
    /// ```json
    /// {"site":"farm-17","devices":{"cold-room-1":{"alerts":true,"aggregate_window_s":900,
    ///  "channels":{"temperature":"full","humidity":"aggregate","door":"none"}}}}
    /// ```
    public static func policy(_ site: Site) -> [UInt8] {
        var w = JSONWriter(reserve: 256)
        w.beginObject()
        w.string("site", site.site)
        w.beginObject("devices")
        for d in site.devices {
            w.beginObject(d.name)
            w.bool("alerts", d.sharing.alerts)
            w.number("aggregate_window_s", d.sharing.aggregateWindow)
            w.beginObject("channels")
            for c in d.channels { w.string(c.name, d.sharing.mode(for: c.name).rawValue) }
            w.endObject()
            w.endObject()
        }
        w.endObject()
        w.endObject()
        return w.bytes
    }
}
