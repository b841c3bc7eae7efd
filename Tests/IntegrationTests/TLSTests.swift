import Foundation
import Testing

/// The agent against a real mosquitto TLS listener (mutual TLS, certificates made by openssl for
/// the test): what a co-op's hosted broker looks like.
@Suite(.serialized)
struct TLSTests {
    /// A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA.
    struct Certificates {
        let ca: String
        let serverCert: String
        let serverKey: String
        let clientCert: String
        let clientKey: String
    }

    private func openssl(_ args: [String]) async throws {
        let status = try await runAsync("/usr/bin/openssl", args)
        try #require(status == 0, "openssl \(args.joined(separator: " "))")
    }

    private func makeCertificates(in dir: TempDir, prefix: String = "") async throws -> Certificates {
        let p = dir.path + "/" + prefix
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try await openssl(["req", "-x509"] + ec + ["-keyout", p + "ca.key", "-out", p + "ca.crt", "-days", "2", "-subj", "/CN=CoopEdge test CA \(prefix)"])
        for (name, usage, cn) in [("server", "serverAuth", "127.0.0.1"), ("client", "clientAuth", "farm-1-edge")] {
            try await openssl(["req"] + ec + ["-keyout", p + name + ".key", "-out", p + name + ".csr", "-subj", "/CN=\(cn)"])
            let ext = try dir.write(prefix + name + ".ext", """
                basicConstraints=CA:FALSE
                keyUsage=digitalSignature,keyEncipherment
                extendedKeyUsage=\(usage)
                \(name == "server" ? "subjectAltName=IP:127.0.0.1" : "")
                """)
            try await openssl(["x509", "-req", "-in", p + name + ".csr", "-CA", p + "ca.crt", "-CAkey", p + "ca.key", "-CAcreateserial",
                         "-out", p + name + ".crt", "-days", "2", "-extfile", ext])
        }
        // mosquitto may drop to its own user before reading them.
        for f in ["ca.crt", "server.crt", "server.key"] { chmod(p + f, 0o644) }
        chmod(dir.path, 0o755)
        return Certificates(ca: p + "ca.crt", serverCert: p + "server.crt", serverKey: p + "server.key",
                            clientCert: p + "client.crt", clientKey: p + "client.key")
    }

    private func tlsBroker(_ dir: TempDir, _ certs: Certificates) async throws -> Broker {
        try await Broker(dir: dir, listenerOptions: """
            cafile \(certs.ca)
            certfile \(certs.serverCert)
            keyfile \(certs.serverKey)
            require_certificate true
            """)
    }

    private func tlsSite(_ dir: TempDir, modbusPort: Int, brokerPort: Int, ca: String, certs: Certificates) throws -> String {
        let plain = try writeSite(dir, modbusPort: modbusPort, brokerPort: brokerPort, poll: "200ms")
        let text = try String(contentsOfFile: plain, encoding: .utf8).replacingOccurrences(
            of: "broker: { url: \"mqtt://127.0.0.1:\(brokerPort)\",",
            with: "broker: { url: \"mqtts://127.0.0.1:\(brokerPort)\", ca_file: \(ca), cert_file: \(certs.clientCert), key_file: \(certs.clientKey),")
        return try dir.write("site-tls.yaml", text)
    }

    @Test("over mutual TLS the readings arrive, checked against the co-op's CA, with the board's client certificate")
    func mutualTLS() async throws {
        let dir = try TempDir()
        let certs = try await makeCertificates(in: dir)
        let broker = try await tlsBroker(dir, certs)
        let modbusPort = try freePort()
        let site = try tlsSite(dir, modbusPort: modbusPort, brokerPort: broker.port, ca: certs.ca, certs: certs)
        #expect(try String(contentsOfFile: site, encoding: .utf8).contains("mqtts://"))
        let sim = try await Simulator(site: site, port: modbusPort)
        let sub = try TestProcess("/usr/bin/mosquitto_sub", [
            "-h", "127.0.0.1", "-p", "\(broker.port)", "--cafile", certs.ca, "--cert", certs.clientCert, "--key", certs.clientKey,
            "-t", "coop/#", "-v", "-q", "1", "-i", "tls-sub",
        ], name: "sub")
        let agent = try agent(site)
        defer { _ = agent.stop() }
        let line = try await waitUntil(timeout: .seconds(20), "a reading over TLS") {
            sub.output.first { $0.hasPrefix("coop/test-coop/farm-1/cold-room-1/state ") }
        }
        #expect(line.contains("\"seq\""))
        #expect(agent.stop() == 0)
        _ = sim
    }

    @Test("a broker whose certificate the CA did not sign is refused; the readings wait in the outbox")
    func wrongCAIsRefused() async throws {
        let dir = try TempDir()
        let certs = try await makeCertificates(in: dir)
        let other = try await makeCertificates(in: dir, prefix: "other-")
        let broker = try await tlsBroker(dir, certs)
        let modbusPort = try freePort()
        // The board trusts another CA than the one that signed the broker's certificate.
        let site = try tlsSite(dir, modbusPort: modbusPort, brokerPort: broker.port, ca: other.ca, certs: certs)
        let sim = try await Simulator(site: site, port: modbusPort)
        let agent = try agent(site)
        defer { _ = agent.stop() }
        let refusal = try await agent.waitForLine("the refusal logged") { $0.contains("broker unreachable") }
        // It says what to check, including the clock (certificates and a board that booted in 1970).
        #expect(refusal.contains("certificate verify failed"), "\(refusal)")
        #expect(refusal.contains("ca_file") && refusal.contains("clock"), "\(refusal)")
        try await waitUntil(timeout: .seconds(20), "readings held in the outbox") { () -> Bool? in
            let (_, out) = try await coopEdge(["status", "--config", site])
            let pending = out.split(separator: "\n").first { $0.hasPrefix("pending readings:") }
                .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
            return pending >= 10 ? true : nil
        }
        #expect(agent.isRunning)
        #expect(!broker.process.output.contains { $0.contains("New client connected") && $0.contains("farm-1-edge") })
        // A failed handshake no longer stops the network thread (it used to retry only after ~90 s):
        // the agent keeps trying with the jittered backoff (waits drawn up to 1, 2, 4, 8 s), and logs
        // each reason once per outage, not once per attempt.
        try await waitUntil(timeout: .seconds(30), "three TLS connection attempts") {
            broker.process.output.filter { $0.contains("New connection from") }.count >= 3 ? true : nil
        }
        #expect(agent.output.filter { $0.contains("broker unreachable") }.count <= 2, "\(agent.output.filter { $0.contains("broker unreachable") })")
        _ = sim
    }
}
