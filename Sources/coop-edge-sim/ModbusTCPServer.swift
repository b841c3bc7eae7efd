import CModbus
import EdgeCore
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// A Modbus TCP slave built on libmodbus's server side (`modbus_tcp_pi_listen`, `modbus_receive`,
/// `modbus_reply`). One register map per slave id; the request's unit id picks the map, as a
/// TCP-to-RTU gateway would. Serves any number of clients from one thread with `select`.
final class ModbusTCPServer {
    struct Failure: Error, CustomStringConvertible { let description: String }

    private let ctx: OpaquePointer
    private let listenSocket: Int32
    private var mappings: [Int: UnsafeMutablePointer<modbus_mapping_t>] = [:]
    private let model: SimulationModel
    let port: Int

    init(host: String, port: Int, model: SimulationModel) throws {
        self.model = model
        guard let ctx = modbus_new_tcp_pi(host, String(port)) else {
            throw Failure(description: "cannot create a Modbus TCP context for \(host):\(port)")
        }
        self.ctx = ctx
        let s = modbus_tcp_pi_listen(ctx, 16)
        if s == -1 {
            let e = errno
            modbus_free(ctx)
            throw Failure(description: "cannot listen on \(host):\(port): \(String(cString: modbus_strerror(e)))")
        }
        listenSocket = s
        var addr = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let actual = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) }
        }
        if actual == 0 {
            self.port = withUnsafePointer(to: &addr) { p in
                if Int32(p.pointee.ss_family) == AF_INET6 {
                    return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
                }
                return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        } else {
            self.port = port
        }
        for slave in model.slaves {
            let sizes = model.tableSizes(slave: slave)
            guard let m = modbus_mapping_new(Int32(sizes[.coil] ?? 0), Int32(sizes[.discrete] ?? 0),
                                             Int32(sizes[.holding] ?? 0), Int32(sizes[.input] ?? 0)) else {
                throw Failure(description: "out of memory for slave \(slave)'s registers")
            }
            mappings[slave] = m
        }
    }

    /// Serves until the process ends.
    func serve() -> Never {
        var clients: [Int32] = []
        var query = [UInt8](repeating: 0, count: Int(MODBUS_TCP_MAX_ADU_LENGTH))
        let headerLength = Int(modbus_get_header_length(ctx))
        while true {
            var set = fd_set()
            CModbus_FD_ZERO(&set)
            CModbus_FD_SET(listenSocket, &set)
            var maxFD = listenSocket
            for c in clients { CModbus_FD_SET(c, &set); maxFD = max(maxFD, c) }
            if select(maxFD + 1, &set, nil, nil, nil) == -1 {
                if errno == EINTR { continue }
                perror("select")
                exit(1)
            }
            if CModbus_FD_ISSET(listenSocket, &set) != 0 {
                var s = listenSocket
                let client = modbus_tcp_pi_accept(ctx, &s)
                if client != -1 { clients.append(client) }
            }
            for c in clients where CModbus_FD_ISSET(c, &set) != 0 {
                modbus_set_socket(ctx, c)
                let rc = modbus_receive(ctx, &query)
                if rc == -1 {
                    close(c)
                    clients.removeAll { $0 == c }
                    continue
                }
                guard rc > headerLength else { continue }
                handle(query: &query, length: rc, unit: Int(query[headerLength - 1]))
            }
        }
    }

    private func handle(query: inout [UInt8], length: Int32, unit: Int) {
        guard let mapping = mappings[unit] else {
            // No such slave behind this "gateway": answer as a gateway does.
            modbus_reply_exception(ctx, query, UInt32(MODBUS_EXCEPTION_GATEWAY_TARGET))
            return
        }
        guard let plan = model.prepare(slave: unit, write: { function, address, words in
            for (i, w) in words.enumerated() {
                let a = address + i
                switch function {
                case .holding where a < mapping.pointee.nb_registers: mapping.pointee.tab_registers[a] = w
                case .input where a < mapping.pointee.nb_input_registers: mapping.pointee.tab_input_registers[a] = w
                case .coil where a < mapping.pointee.nb_bits: mapping.pointee.tab_bits[a] = w != 0 ? 1 : 0
                case .discrete where a < mapping.pointee.nb_input_bits: mapping.pointee.tab_input_bits[a] = w != 0 ? 1 : 0
                default: break
                }
            }
        }) else { return }
        guard plan.answer else { return }
        if plan.delayMS > 0 { usleep(UInt32(plan.delayMS) * 1000) }
        modbus_reply(ctx, query, length, mapping)
    }
}
