internal import EdgeCore

extension ConfigLoader {
    static let profileKeys = ["model", "datasheet", "serial", "slave", "max_registers_per_read", "channels"]
    static let serialKeys = ["baud", "parity", "data_bits", "stop_bits"]
    static let channelKeys = ["function", "address", "type", "order", "scale", "offset", "unit", "kind", "valid", "sentinels", "writable", "role"]

    static func parseProfile(path: String, diagnostics: inout [ConfigDiagnostic]) -> Profile? {
        guard let bytes = readBytes(path, diagnostics: &diagnostics),
              let root = compose(bytes: bytes, file: path, diagnostics: &diagnostics) else { return nil }
        let r = NodeReader(file: path)
        defer { diagnostics += r.diagnostics }
        let name = FileSystem.deletingExtension(FileSystem.lastComponent(path))
        return parseProfile(root, name: name, r)
    }

    static func parseProfile(_ root: YAMLNode, name: String, _ r: NodeReader) -> Profile? {
        guard let top = r.mapping(root, "", allowed: profileKeys) else { return nil }
        let model = top.string("model", required: true, hint: "the sensor's make and model") ?? name
        var serial: SerialSettings? = nil
        if let s = top.mapping("serial", allowed: serialKeys) {
            var v = SerialSettings()
            if let baud = s.int("baud", range: 300...4_000_000) { v.baud = baud }
            if let p = s.string("parity") {
                if let parity = SerialSettings.Parity(rawValue: p.uppercased()) { v.parity = parity }
                else { r.report(s.node("parity"), s.sub("parity"), "'parity' must be N, E or O, not '\(p)'") }
            }
            if let d = s.int("data_bits", range: 5...8) { v.dataBits = d }
            if let sb = s.int("stop_bits", range: 1...2) { v.stopBits = sb }
            serial = v
        }
        let slave = top.int("slave", range: 0...247)
        let maxPerRead = top.int("max_registers_per_read", range: 1...125) ?? 125
        var channels: [ChannelSpec] = []
        var addressNodes: [String: YAMLNode] = [:]  // channel name → its 'address' node, for overlap errors
        guard let list = top.node("channels") else { top.missing("channels"); return nil }
        guard case .mapping(let mapping) = list else {
            r.report(list, "channels", "'channels' must be a mapping of channel name to register, not \(kind(list))")
            return nil
        }
        for (k, v) in mapping {
            guard case .scalar(let key) = k, !key.string.isEmpty else { r.report(k, "channels", "a channel name must be text"); continue }
            let channelName = key.string
            let p = "channels.\(channelName)"
            if !ConfigLoader.isTopicSafe(channelName) || channelName.contains(".") {
                r.report(k, p, "channel name may not contain '.', '/', '+', '#' or spaces")
                continue
            }
            guard let f = r.mapping(v, p, allowed: channelKeys) else { continue }
            let function = f.choice("function", RegisterFunction.self, required: true)
            let address = f.int("address", required: true, range: 0...65535)
            var type = f.choice("type", ValueType.self, required: function?.isBit != true)
            if function?.isBit == true {
                if let t = type, t != .bool { r.report(f.node("type"), f.sub("type"), "a \(function!.rawValue) is one bit: its type must be bool") }
                type = .bool
            } else if type == .bool, let function {
                r.report(f.node("type"), f.sub("type"), "type bool needs function coil or discrete, not \(function.rawValue)")
            }
            if let address, let type, address + type.registerCount - 1 > 65535 {
                r.report(f.node("address"), f.sub("address"),
                         "register address out of range: a \(type.rawValue) at \(address) runs past the last address 65535")
            }
            if let type, type.registerCount > maxPerRead {
                r.report(f.node("type"), f.sub("type"), "a \(type.rawValue) needs \(type.registerCount) registers but max_registers_per_read is \(maxPerRead)")
            }
            let order = f.choice("order", ByteOrder.self) ?? .abcd
            let scale = f.double("scale") ?? 1
            if scale == 0 { r.report(f.node("scale"), f.sub("scale"), "'scale' must not be 0") }
            var valid: ClosedRange<Double>? = nil
            if let vn = f.node("valid") {
                if case .sequence(let seq) = vn, seq.count == 2,
                   let lo = r.double(seq[0], f.sub("valid[0]"), "valid"), let hi = r.double(seq[1], f.sub("valid[1]"), "valid") {
                    if lo <= hi { valid = lo...hi } else { r.report(vn, f.sub("valid"), "'valid' is [\(lo), \(hi)]: the low end must come first") }
                } else if case .sequence(let seq) = vn, seq.count == 2 {
                    // element errors already reported
                } else {
                    r.report(vn, f.sub("valid"), "'valid' must be a list of two numbers, [low, high]")
                }
            }
            var sentinels: [Double] = []
            if let sn = f.node("sentinels") {
                if case .sequence(let seq) = sn {
                    for (j, s) in seq.enumerated() { if let v = r.double(s, f.sub("sentinels[\(j)]"), "sentinels") { sentinels.append(v) } }
                } else {
                    r.report(sn, f.sub("sentinels"), "'sentinels' must be a list of raw register values, e.g. [0x7FFF, -32768]")
                }
            }
            if let type, let range = rawRange(type) {
                for (j, v) in sentinels.enumerated() where !range.contains(v) {
                    r.report(f.node("sentinels"), f.sub("sentinels[\(j)]"),
                             "sentinel \(v) can never appear in a \(type.rawValue) register (raw values \(Int(range.lowerBound))…\(Int(range.upperBound))); give the raw value as the sensor sends it, e.g. -32768 for 0x8000 in an i16")
                }
            }
            let role = f.choice("role", ChannelRole.self)
            if role != nil, let type, type == .f32 || type == .f64 {
                r.report(f.node("role"), f.sub("role"), "a status channel (role) is a bit or an integer register (non-zero = on), not \(type.rawValue)")
            }
            guard let function, let address, let type else { continue }
            // Two channels on the same registers read each other's bits: humidity at temperature's
            // address gave "89.3 °C [out_of_range]", an i32 over another gave -19557993 kg.
            let span = address..<(address + (function.isBit ? 1 : type.registerCount))
            if span.upperBound <= 65536, let other = channels.first(where: { $0.function == function && $0.address + $0.count <= 65536 && $0.address < span.upperBound && span.lowerBound < $0.address + $0.count }) {
                let table = function.isBit ? "\(function.rawValue) \(address)" : "\(function.rawValue) registers \(span.lowerBound)…\(span.upperBound - 1)"
                let theirs = other.count == 1 ? "\(other.address)" : "\(other.address)…\(other.address + other.count - 1)"
                r.report(f.node("address"), f.sub("address"),
                         "'\(channelName)' (\(table)) overlaps '\(other.name)' (\(other.function.rawValue) \(theirs), line \(addressNodes[other.name]?.mark.line ?? 0)): each register belongs to one channel — check the datasheet's register map")
                continue
            }
            addressNodes[channelName] = f.node("address")
            channels.append(ChannelSpec(name: channelName, function: function, address: address, type: type, order: order,
                                        scale: scale == 0 ? 1 : scale, offset: f.double("offset") ?? 0, unit: f.string("unit") ?? "",
                                        kind: f.string("kind") ?? "generic", valid: valid, sentinels: sentinels,
                                        writable: f.bool("writable") ?? false, role: role))
        }
        if channels.isEmpty && r.diagnostics.isEmpty { r.report(list, "channels", "a profile needs at least one channel") }
        return Profile(name: name, model: model, serial: serial, defaultSlave: slave, maxRegistersPerRead: maxPerRead, channels: channels)
    }

    /// The raw values a register type can hold, for checking sentinels; nil where any double fits.
    static func rawRange(_ type: ValueType) -> ClosedRange<Double>? {
        switch type {
        case .bool: 0...1
        case .u16: 0...65535
        case .i16: -32768...32767
        case .u32: 0...4_294_967_295
        case .i32: -2_147_483_648...2_147_483_647
        case .f32, .f64, .u64, .i64: nil
        }
    }
}
