internal import CMosquitto
internal import IOThread
internal import Synchronization
internal import FoundationEssentials
#if canImport(Glibc)
internal import Glibc
#endif

/// What a client connects with. Secrets are passed in memory, never read from the site file.
public struct MQTTOptions: Sendable {
    public struct Will: Sendable {
        public var topic: String
        public var payload: [UInt8]
        public var retain: Bool
        public init(topic: String, payload: [UInt8], retain: Bool) {
            self.topic = topic
            self.payload = payload
            self.retain = retain
        }
    }
    /// The MQTT version spoken. Under 3.1.1 a broker cannot refuse a QoS 1 message: mosquitto
    /// acknowledges a PUBLISH its ACL denies, so a refused message looks delivered (FIELD-NOTES.md).
    public enum ProtocolVersion: String, Sendable, CaseIterable {
        case v5 = "5"
        case v311 = "3.1.1"
    }
    public var host: String
    public var port: Int
    public var clientID: String
    public var username: String?
    public var password: String?
    public var tls: Bool
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var keepAliveSeconds: Int
    public var will: Will?
    /// Unacknowledged QoS 1 messages libmosquitto may have on the wire at once (lowered further by
    /// the broker's Receive Maximum, which libmosquitto reads from the CONNACK).
    public var maxInflight: Int
    public var protocolVersion: ProtocolVersion
    /// The waits between connection attempts (full jitter; reset once a connection has lasted).
    public var reconnectBackoff: Backoff

    public init(host: String, port: Int, clientID: String, username: String? = nil, password: String? = nil,
                tls: Bool = false, caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil,
                keepAliveSeconds: Int = 30, will: Will? = nil, maxInflight: Int = 100,
                protocolVersion: ProtocolVersion = .v5, reconnectBackoff: Backoff = Backoff()) {
        self.host = host
        self.port = port
        self.clientID = clientID
        self.username = username
        self.password = password
        self.tls = tls
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.keepAliveSeconds = keepAliveSeconds
        self.will = will
        self.maxInflight = maxInflight
        self.protocolVersion = protocolVersion
        self.reconnectBackoff = reconnectBackoff
    }
}

/// What libmosquitto's loop thread reports.
extension MQTTClient {
    /// libmosquitto's words for an error code, with what to check when the link is TLS: a failed
    /// handshake is only "A TLS error occurred" (or a lost connection, when it fails later), and the
    /// usual causes in the field are these.
    public static func describe(_ code: Int32, tls: Bool) -> String {
        let text = String(cString: mosquitto_strerror(code))
        if tls && (code == MOSQ_ERR_TLS.rawValue || code == MOSQ_ERR_CONN_LOST.rawValue || code == MOSQ_ERR_PROTOCOL.rawValue) {
            return text + tlsHint
        }
        return text
    }

    /// What to check when a TLS link never comes up.
    public static let tlsHint = " — if it never connects: check that ca_file is the CA that signed the broker's certificate,"
        + " that the broker's name or IP in the url is the one in its certificate, that the broker accepts this board's"
        + " cert_file, and that the board's clock is set (without NTP sync or an RTC it thinks certificates are not yet valid)"

    /// The MQTT 5 name of a reason code, in lower case ("not authorized"). Wraps `mosquitto_reason_string`.
    public static func reasonName(_ code: Int32) -> String {
        let text = String(cString: mosquitto_reason_string(code))
        guard let first = text.first else { return "reason \(code)" }
        return first.lowercased() + text.dropFirst()
    }

    /// A reason code as the MQTT 5 specification writes it: `0x87`.
    public static func hex(_ code: Int32) -> String {
        let digits = String(code, radix: 16, uppercase: true)
        return "0x" + (digits.count < 2 ? "0" + digits : digits)
    }

    /// Why the broker refused the connection (its CONNACK), and what to do about it.
    static func connackReason(_ code: Int32, version: MQTTOptions.ProtocolVersion) -> String {
        switch version {
        case .v311:
            return String(cString: mosquitto_connack_string(code))
        case .v5:
            // libmosquitto turns a 3.1.1 broker's "unacceptable protocol version" into 0x84.
            if code == 0x84 {
                return reasonName(code) + " — this broker does not speak MQTT 5: set protocol: \"3.1.1\" under broker in the site file"
            }
            return reasonName(code) + " (\(hex(code)))"
        }
    }
}

public enum MQTTEvent: Sendable, Equatable {
    /// CONNACK accepted.
    case connected
    /// CONNACK refused, or the TCP/TLS connection failed; `reason` is for the log.
    case connectFailed(code: Int32, reason: String)
    /// The connection was lost (`expected` after our own `disconnect`).
    case disconnected(code: Int32, expected: Bool)
    /// The network thread waits this long (jittered backoff) before its next connection attempt.
    case reconnecting(after: Duration)
    /// The broker acknowledged (PUBACK) QoS 1 messages: `takeAcknowledged()` returns them.
    /// One event stands for every acknowledgement that arrives until they are taken, so a stream of
    /// PUBACKs wakes the consumer once per batch, not once per message.
    case acknowledged
    /// libmosquitto logged an error or a warning. A TLS handshake that fails on the network thread
    /// reaches us only this way (OpenSSL's reason, e.g. "certificate verify failed").
    case problem(message: String)
}

/// A broker's PUBACK for one QoS 1 message.
public struct Acknowledgement: Sendable, Equatable {
    public var mid: Int32
    /// The MQTT 5 reason code: 0 success, 0x10 no matching subscribers, 0x87 not authorized, 0x97
    /// quota exceeded, … Always 0 under MQTT 3.1.1, where a broker has no way to say no.
    public var reason: Int32
    public init(mid: Int32, reason: Int32) {
        self.mid = mid
        self.reason = reason
    }
    /// The broker took the message (reason below 0x80; 0x10 "no matching subscribers" included).
    public var accepted: Bool { reason < 0x80 }
}

/// One message for `MQTTClient.publish(_:)`.
public struct OutgoingMessage: Sendable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: Int32
    public var retain: Bool
    public init(topic: String, payload: [UInt8], qos: Int32 = 1, retain: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}

/// Receives callbacks from libmosquitto (on the network thread); it only copies data out and yields.
/// It also decides, once per connection attempt, which event reports how the attempt ended: a
/// callback when libmosquitto calls one, otherwise the network thread (a failed TLS handshake ends
/// an attempt with no callback at all).
final class EventSink: Sendable {
    let continuation: AsyncStream<MQTTEvent>.Continuation
    /// Acknowledgements not yet taken.
    let acknowledged = Mutex<[Acknowledgement]>([])
    let version: MQTTOptions.ProtocolVersion
    let tls: Bool

    private struct Attempt {
        /// The broker accepted this connection and no loss has been reported yet.
        var accepted = false
        var acceptedAt: ContinuousClock.Instant? = nil
        /// How this attempt ended (or failed) has been reported.
        var reported = false
    }
    private let attempt = Mutex(Attempt())

    init(_ continuation: AsyncStream<MQTTEvent>.Continuation, version: MQTTOptions.ProtocolVersion, tls: Bool) {
        self.continuation = continuation
        self.version = version
        self.tls = tls
    }

    func acknowledge(_ mid: Int32, reason: Int32) {
        let first = acknowledged.withLock { acks in
            acks.append(Acknowledgement(mid: mid, reason: reason))
            return acks.count == 1
        }
        if first { continuation.yield(.acknowledged) }
    }

    func beginAttempt() { attempt.withLock { $0 = Attempt() } }

    var isAccepted: Bool { attempt.withLock { $0.accepted } }

    /// CONNACK (`on_connect_v5`).
    func connack(_ code: Int32) {
        if code == 0 {
            attempt.withLock { $0.accepted = true; $0.acceptedAt = .now; $0.reported = false }
            continuation.yield(.connected)
        } else {
            attempt.withLock { $0.reported = true }
            continuation.yield(.connectFailed(code: code, reason: MQTTClient.connackReason(code, version: version)))
        }
    }

    /// The connection closed (`on_disconnect_v5`), or the network thread saw the attempt end with
    /// `code` (a `MOSQ_ERR_*`; `error` is errno as it was then). Reports it unless already reported.
    /// Returns how long the broker had accepted the connection, if it had.
    @discardableResult
    func ended(_ code: Int32, errno error: Int32) -> Duration? {
        let (wasAccepted, since, report) = attempt.withLock { a in
            defer { a.accepted = false; a.reported = true }
            return (a.accepted, a.acceptedAt, !a.reported)
        }
        let lasted = since.map { $0.duration(to: .now) }
        guard report else { return lasted }
        if wasAccepted {
            continuation.yield(.disconnected(code: code, expected: code == 0))
        } else {
            let reason = code == MOSQ_ERR_ERRNO.rawValue && error != 0
                ? String(cString: strerror(error)) : MQTTClient.describe(code, tls: tls)
            continuation.yield(.connectFailed(code: code, reason: reason))
        }
        return lasted
    }
}

/// One MQTT connection through libmosquitto, driven by a network thread of our own that runs
/// `mosquitto_loop` and reconnects with jittered exponential backoff (`MQTTOptions.reconnectBackoff`).
///
/// Why not `mosquitto_loop_start`: its thread reconnects by itself with a backoff that has no
/// jitter (a co-op's farms all come back in the same second after a broker restart), does not
/// retry a first connection that failed at once, and stops for good on errors it deems fatal (a
/// TLS failure, a protocol error, a refused CONNACK), after which nothing reconnected for ~90 s.
/// Our thread (`mosquitto_threaded_set`) treats every failure alike: report it, wait
/// random(0, min(30 s, 1 s·2ⁿ)), try again, until `disconnect()`.
///
/// libmosquitto keeps unacknowledged QoS 1 messages in memory only and resends them after a
/// reconnect; the caller keeps the durable copy (the outbox) and bounds what it hands over.
public actor MQTTClient {
    private let executor = IOThreadExecutor(name: "mqtt")
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public nonisolated let events: AsyncStream<MQTTEvent>
    private let sink: EventSink
    private let options: MQTTOptions
    private var handle: MosquittoHandle?
    private var mosq: OpaquePointer? { handle?.raw }

    private static let initOnce: Void = { mosquitto_lib_init(); return () }()

    public init(options: MQTTOptions) {
        self.options = options
        let (stream, continuation) = AsyncStream.makeStream(of: MQTTEvent.self, bufferingPolicy: .unbounded)
        self.events = stream
        self.sink = EventSink(continuation, version: options.protocolVersion, tls: options.tls)
    }

    // Not an `isolated deinit` (see ModbusConnection). The network thread holds the handle until it
    // ends, so asking it to stop is enough: the last of the two to let go destroys the client.
    deinit {
        handle?.requestStop(drain: .zero)
        sink.continuation.finish()
        executor.shutdown()
    }

    /// Sets the client up and starts its network thread, which connects in the background and
    /// keeps reconnecting; `events` reports `.connected` when the broker accepts. Throws only for a
    /// setting libmosquitto refuses (TLS files, the will). Wraps `mosquitto_new`, the `_v5` callback
    /// setters and `mosquitto_threaded_set`.
    public func start() throws(MQTTError) {
        _ = Self.initOnce
        guard mosq == nil else { return }
        guard let m = mosquitto_new(options.clientID, true, Unmanaged.passUnretained(sink).toOpaque()) else {
            throw MQTTError(.other, "cannot create an MQTT client (out of memory?)")
        }
        let handle = MosquittoHandle(m, sink: sink)
        self.handle = handle
        let version = options.protocolVersion == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311
        try check(mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, version), "setting the MQTT version")
        try check(mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, Int32(min(max(1, options.maxInflight), 65_535))), "setting the in-flight window")
        try check(mosquitto_threaded_set(m, true), "enabling threaded mode")
        // The _v5 callbacks work under 3.1.1 too (reason codes 0, no properties).
        mosquitto_connect_v5_callback_set(m) { _, obj, rc, _, _ in
            guard let obj else { return }
            Unmanaged<EventSink>.fromOpaque(obj).takeUnretainedValue().connack(rc)
        }
        mosquitto_disconnect_v5_callback_set(m) { _, obj, rc, _ in
            let error = errno  // before anything else can change it
            guard let obj else { return }
            Unmanaged<EventSink>.fromOpaque(obj).takeUnretainedValue().ended(rc, errno: error)
        }
        mosquitto_log_callback_set(m) { _, obj, level, text in
            guard let obj, let text, level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING) != 0 else { return }
            Unmanaged<EventSink>.fromOpaque(obj).takeUnretainedValue().continuation.yield(.problem(message: String(cString: text)))
        }
        mosquitto_publish_v5_callback_set(m) { _, obj, mid, reason, _ in
            guard let obj else { return }
            Unmanaged<EventSink>.fromOpaque(obj).takeUnretainedValue().acknowledge(mid, reason: reason)
        }
        if let user = options.username {
            try check(mosquitto_username_pw_set(m, user, options.password), "setting the user name")
        }
        if options.tls {
            let rc = mosquitto_tls_set(m, options.caFile, options.caFile == nil ? "/etc/ssl/certs" : nil, options.certFile, options.keyFile, nil)
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                throw MQTTError(.tls, "TLS setup failed (\(String(cString: mosquitto_strerror(rc)))): check ca_file, cert_file and key_file exist and are readable", mosquittoCode: rc)
            }
        }
        if let will = options.will {
            let rc = will.payload.withUnsafeBytes { buf in
                mosquitto_will_set(m, will.topic, Int32(buf.count), buf.baseAddress, 1, will.retain)
            }
            try check(rc, "setting the last will")
        }
        let options = self.options
        OSThread.start(name: "mqtt-net", stackSize: 1 << 20) { handle.runNetworkLoop(options) }
    }

    /// The acknowledgements (message id and reason code) the broker sent since the last call
    /// (announced by `.acknowledged`). Any thread; no hop to the client's thread.
    public nonisolated func takeAcknowledged() -> [Acknowledgement] {
        sink.acknowledged.withLock { acks in
            defer { acks.removeAll(keepingCapacity: true) }
            return acks
        }
    }

    /// Hands messages to libmosquitto in order, in one hop to the client's thread, and returns each
    /// one's message id or why it was refused. Stops at the first failure other than `.rejected`
    /// (not connected, out of memory): the messages after it are not handed over and get no result.
    public func publish(_ batch: [OutgoingMessage]) -> [Result<Int32, MQTTError>] {
        var results: [Result<Int32, MQTTError>] = []
        results.reserveCapacity(batch.count)
        for m in batch {
            do throws(MQTTError) {
                results.append(.success(try publish(topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain)))
            } catch {
                results.append(.failure(error))
                if error.code != .rejected { break }
            }
        }
        return results
    }

    /// Hands a message to libmosquitto and returns its message id; `.acknowledged` follows
    /// when the broker acknowledges it (QoS 1). A message accepted while the connection is down
    /// is queued by libmosquitto and sent after reconnect: it still returns its id (FIELD-NOTES.md:
    /// never republish blindly). Wraps `mosquitto_publish`.
    public func publish(topic: String, payload: [UInt8], qos: Int32 = 1, retain: Bool = false) throws(MQTTError) -> Int32 {
        guard let mosq else { throw MQTTError(.notConnected, "the MQTT client is not started") }
        var mid: Int32 = 0
        let rc = payload.withUnsafeBytes { buf in
            mosquitto_publish(mosq, &mid, topic, Int32(buf.count), buf.baseAddress, qos, retain)
        }
        if rc == MOSQ_ERR_SUCCESS.rawValue { return mid }
        if rc == MOSQ_ERR_NO_CONN.rawValue && qos > 0 && mid != 0 { return mid }
        if rc == MOSQ_ERR_PAYLOAD_SIZE.rawValue || rc == MOSQ_ERR_OVERSIZE_PACKET.rawValue {
            throw MQTTError(.rejected, "message of \(payload.count) bytes on \(topic) is larger than the broker accepts", mosquittoCode: rc)
        }
        if rc == MOSQ_ERR_MALFORMED_UTF8.rawValue || rc == MOSQ_ERR_INVAL.rawValue || rc == MOSQ_ERR_QOS_NOT_SUPPORTED.rawValue {
            throw MQTTError(.rejected, "message on \(topic) refused: \(String(cString: mosquitto_strerror(rc)))", mosquittoCode: rc)
        }
        if rc == MOSQ_ERR_NO_CONN.rawValue {
            throw MQTTError(.notConnected, "not connected to the broker", mosquittoCode: rc)
        }
        throw MQTTError(.other, "publish on \(topic) failed: \(String(cString: mosquitto_strerror(rc)))", mosquittoCode: rc)
    }

    /// Sends DISCONNECT (so the broker does not publish the will), lets the network thread write
    /// it (at most 2 s), stops that thread and finishes `events`. Blocks the client's own thread
    /// meanwhile, never the cooperative pool. Wraps `mosquitto_disconnect`.
    public func disconnect() {
        guard let handle else { return }
        handle.requestStop(drain: .seconds(2))
        mosquitto_disconnect(handle.raw)
        handle.waitStopped(timeout: .seconds(5))
        self.handle = nil
        sink.continuation.finish()
    }

    private func check(_ rc: Int32, _ what: String) throws(MQTTError) {
        guard rc != MOSQ_ERR_SUCCESS.rawValue else { return }
        throw MQTTError(.invalid, "\(what) failed: \(String(cString: mosquitto_strerror(rc)))", mosquittoCode: rc)
    }
}

/// Owns one `struct mosquitto*` and the network thread that drives it.
///
/// `@unchecked Sendable` because two threads use `raw`: the client's thread (publish, disconnect)
/// and the network thread (`mosquitto_loop`, connect). libmosquitto in threaded mode
/// (`mosquitto_threaded_set`) guards its own state with its mutexes for exactly this split, as it
/// does for `mosquitto_loop_start`. Our own mutable state is `stop` (a Mutex). The network thread
/// holds a reference until it ends, so `mosquitto_destroy` in deinit can never race it, and the
/// callbacks' sink lives as long as the handle.
final class MosquittoHandle: @unchecked Sendable {
    let raw: OpaquePointer
    private let sink: EventSink
    /// When set: stop, after letting the loop run until this instant (to write a DISCONNECT).
    private let stop = Mutex<ContinuousClock.Instant?>(nil)
    /// Cut short the wait between attempts.
    private let wake = Sleeper()
    /// Stopped (as a latch) when the network thread ends.
    private let done = Sleeper()

    init(_ raw: OpaquePointer, sink: EventSink) {
        self.raw = raw
        self.sink = sink
    }

    deinit {
        mosquitto_destroy(raw)
        withExtendedLifetime(sink) {}
    }

    /// Asks the network thread to end; it keeps looping for up to `drain` to send what is queued.
    func requestStop(drain: Duration) {
        stop.withLock { at in if at == nil { at = ContinuousClock.now.advanced(by: drain) } }
        wake.stop()
    }

    /// Waits (blocking the caller's thread) until the network thread has ended, at most `timeout`.
    func waitStopped(timeout: Duration) {
        _ = done.sleep(for: timeout)
    }

    /// The network thread's body: connect, run `mosquitto_loop` until the connection ends, report
    /// how it ended, wait a jittered backoff, again — until `requestStop`.
    ///
    /// Each attempt is `mosquitto_connect_async` (it stores the host again and reconnects exactly as
    /// `mosquitto_reconnect_async` does): the TCP connect and the TLS handshake complete inside
    /// `mosquitto_loop`, so a black-holed broker blocks nothing; a CONNACK that never comes ends the
    /// attempt after the keepalive. The backoff starts again only after a connection that lasted
    /// at least `stableAfter`: a broker that accepts and drops at once (two boards with one
    /// client id) is retried ever more slowly, not hammered.
    func runNetworkLoop(_ options: MQTTOptions) {
        defer { done.stop() }
        var backoff = options.reconnectBackoff
        while stopping == nil {
            sink.beginAttempt()
            var rc = mosquitto_connect_async(raw, options.host, Int32(options.port), Int32(options.keepAliveSeconds))
            var error = errno
            if rc == MOSQ_ERR_SUCCESS.rawValue {
                while true {
                    rc = mosquitto_loop(raw, 500, 1)
                    error = errno
                    if rc != MOSQ_ERR_SUCCESS.rawValue { break }
                    // Stopping: let a live connection write its DISCONNECT, up to the deadline.
                    if let until = stopping, !sink.isAccepted || ContinuousClock.now >= until { break }
                }
            }
            // Stopped by `requestStop` on a loop that was still fine: nothing to report.
            if stopping != nil && rc == MOSQ_ERR_SUCCESS.rawValue { break }
            let lasted = sink.ended(rc, errno: error)
            if stopping != nil { break }
            if let lasted, lasted >= Self.stableAfter { backoff.reset() }
            let wait = backoff.next()
            sink.continuation.yield(.reconnecting(after: wait))
            if !wake.sleep(for: wait) { break }
        }
    }

    /// A connection that lasted this long resets the backoff.
    static let stableAfter: Duration = .seconds(10)

    private var stopping: ContinuousClock.Instant? { stop.withLock { $0 } }
}
