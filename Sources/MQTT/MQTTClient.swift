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
    /// Unacknowledged QoS 1 messages libmosquitto may have on the wire at once.
    public var maxInflight: Int
    public var reconnectDelay: (min: Int, max: Int)

    public init(host: String, port: Int, clientID: String, username: String? = nil, password: String? = nil,
                tls: Bool = false, caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil,
                keepAliveSeconds: Int = 30, will: Will? = nil, maxInflight: Int = 100, reconnectDelay: (min: Int, max: Int) = (1, 30)) {
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
        self.reconnectDelay = reconnectDelay
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
}

public enum MQTTEvent: Sendable, Equatable {
    /// CONNACK accepted.
    case connected
    /// CONNACK refused, or the TCP/TLS connection failed; `reason` is for the log.
    case connectFailed(code: Int32, reason: String)
    /// The connection was lost (`expected` after our own `disconnect`).
    case disconnected(code: Int32, expected: Bool)
    /// The broker acknowledged (PUBACK) QoS 1 messages: `takeAcknowledged()` returns their ids.
    /// One event stands for every acknowledgement that arrives until they are taken, so a stream of
    /// PUBACKs wakes the consumer once per batch, not once per message.
    case acknowledged
    /// libmosquitto logged an error or a warning. A TLS handshake that fails on the network thread
    /// reaches us only this way (OpenSSL's reason, e.g. "certificate verify failed").
    case problem(message: String)
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

/// Receives callbacks from libmosquitto's loop thread; it only copies data out and yields.
final class EventSink: Sendable {
    let continuation: AsyncStream<MQTTEvent>.Continuation
    /// Acknowledged message ids not yet taken.
    let acknowledged = Mutex<[Int32]>([])
    init(_ continuation: AsyncStream<MQTTEvent>.Continuation) { self.continuation = continuation }

    func acknowledge(_ mid: Int32) {
        let first = acknowledged.withLock { ids in
            ids.append(mid)
            return ids.count == 1
        }
        if first { continuation.yield(.acknowledged) }
    }
}

/// One MQTT connection through libmosquitto, driven by its own network thread
/// (`mosquitto_loop_start`), which also reconnects with exponential backoff.
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
    private var loopRunning: Bool {
        get { handle?.loopRunning ?? false }
        set { handle?.loopRunning = newValue }
    }

    private static let initOnce: Void = { mosquitto_lib_init(); return () }()

    public init(options: MQTTOptions) {
        self.options = options
        let (stream, continuation) = AsyncStream.makeStream(of: MQTTEvent.self, bufferingPolicy: .unbounded)
        self.events = stream
        self.sink = EventSink(continuation)
    }

    // Not an `isolated deinit` (see ModbusConnection): the handle stops the network thread and
    // destroys the client in its own deinit.
    deinit {
        sink.continuation.finish()
        executor.shutdown()
    }

    /// Starts connecting in the background. Returns once the network thread runs; `events`
    /// reports `.connected` when the broker accepts. If the broker is absent, the thread keeps
    /// retrying with backoff. Wraps `mosquitto_connect_async` and `mosquitto_loop_start`.
    public func start() throws(MQTTError) {
        _ = Self.initOnce
        guard mosq == nil else { return }
        guard let m = mosquitto_new(options.clientID, true, Unmanaged.passUnretained(sink).toOpaque()) else {
            throw MQTTError(.other, "cannot create an MQTT client (out of memory?)")
        }
        handle = MosquittoHandle(m, sink: sink)
        mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311)
        mosquitto_max_inflight_messages_set(m, UInt32(options.maxInflight))
        mosquitto_reconnect_delay_set(m, UInt32(options.reconnectDelay.min), UInt32(options.reconnectDelay.max), true)
        mosquitto_connect_callback_set(m) { _, obj, rc in
            guard let obj else { return }
            let sink = Unmanaged<EventSink>.fromOpaque(obj).takeUnretainedValue()
            if rc == 0 { sink.continuation.yield(.connected) }
            else { sink.continuation.yield(.connectFailed(code: rc, reason: String(cString: mosquitto_connack_string(rc)))) }
        }
        mosquitto_disconnect_callback_set(m) { _, obj, rc in
            guard let obj else { return }
            Unmanaged<EventSink>.fromOpaque(obj).takeUnretainedValue().continuation.yield(.disconnected(code: rc, expected: rc == 0))
        }
        mosquitto_log_callback_set(m) { _, obj, level, text in
            guard let obj, let text, level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING) != 0 else { return }
            Unmanaged<EventSink>.fromOpaque(obj).takeUnretainedValue().continuation.yield(.problem(message: String(cString: text)))
        }
        mosquitto_publish_callback_set(m) { _, obj, mid in
            guard let obj else { return }
            Unmanaged<EventSink>.fromOpaque(obj).takeUnretainedValue().acknowledge(mid)
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
        try connectAttempt()
    }

    /// One connection attempt. libmosquitto's network thread reconnects by itself once a
    /// connection has been made, but not after a first attempt that failed at once (broker down
    /// at boot): the caller retries with `retryConnect()` until `.connected` arrives.
    private func connectAttempt() throws(MQTTError) {
        guard let m = mosq else { return }
        let rc = mosquitto_connect_async(m, options.host, Int32(options.port), Int32(options.keepAliveSeconds))
        if rc != MOSQ_ERR_SUCCESS.rawValue {
            let e = errno
            let reason = rc == MOSQ_ERR_ERRNO.rawValue ? String(cString: strerror(e)) : Self.describe(rc, tls: options.tls)
            sink.continuation.yield(.connectFailed(code: rc, reason: reason))
            return
        }
        if !loopRunning {
            try check(mosquitto_loop_start(m), "starting the network thread")
            loopRunning = true
        }
    }

    /// Tries again to connect when the first attempt failed and no network thread is running yet.
    /// Once the thread runs, it owns reconnection and this does nothing.
    public func retryConnect() throws(MQTTError) {
        guard mosq != nil, !loopRunning else { return }
        try connectAttempt()
    }

    /// Stops libmosquitto's network thread, which may have ended by itself on an error it treats
    /// as fatal (TLS, protocol): the caller then reconnects with `retryConnect()`.
    /// Wraps `mosquitto_loop_stop(force: true)`.
    public func resetNetworkThread() {
        guard let mosq, loopRunning else { return }
        mosquitto_loop_stop(mosq, true)
        loopRunning = false
    }

    /// True once a connection attempt got far enough for libmosquitto's thread to take over.
    public var networkThreadRunning: Bool { loopRunning }

    /// The ids of the QoS 1 messages the broker acknowledged since the last call (announced by
    /// `.acknowledged`). Any thread; no hop to the client's thread.
    public nonisolated func takeAcknowledged() -> [Int32] {
        sink.acknowledged.withLock { ids in
            defer { ids.removeAll(keepingCapacity: true) }
            return ids
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

    /// Sends DISCONNECT (so the broker does not publish the will), stops the network thread and
    /// finishes `events`. Wraps `mosquitto_disconnect` and `mosquitto_loop_stop`.
    public func disconnect() {
        guard let mosq else { return }
        mosquitto_disconnect(mosq)
        if loopRunning { mosquitto_loop_stop(mosq, false) }
        loopRunning = false
        handle = nil
        sink.continuation.finish()
    }

    private func check(_ rc: Int32, _ what: String) throws(MQTTError) {
        guard rc != MOSQ_ERR_SUCCESS.rawValue else { return }
        throw MQTTError(.invalid, "\(what) failed: \(String(cString: mosquitto_strerror(rc)))", mosquittoCode: rc)
    }
}

/// Owns one `struct mosquitto*`. Its deinit stops the network thread before destroying the client,
/// and it keeps the callbacks' sink alive until then, so no callback can see a freed userdata.
final class MosquittoHandle {
    let raw: OpaquePointer
    var loopRunning = false
    private let sink: EventSink
    init(_ raw: OpaquePointer, sink: EventSink) {
        self.raw = raw
        self.sink = sink
    }
    deinit {
        if loopRunning { mosquitto_loop_stop(raw, true) }
        mosquitto_destroy(raw)
        withExtendedLifetime(sink) {}
    }
}
