import CMallocCounter
import Detection
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Detector benchmarks: time per sample at window 256, heap growth per sample in steady state,
/// memory per channel, and replay throughput over the labelled traces.
///
/// How allocations are measured: every malloc/calloc/realloc call in the process is counted by
/// CMallocCounter (malloc interposed in the bench executable), before and after a steady-state run.
/// Memory per channel is the detector's inline size plus the malloc'd bytes (mallinfo2) of 1000 detectors / 1000.
enum DetectionBenchmarks {
    static func run() {
        print("== Detection")
        perSample()
        // COOP_EDGE_BENCH_DETECTION=per-sample skips the memory and replay parts (for profilers).
        if ProcessInfo.processInfo.environment["COOP_EDGE_BENCH_DETECTION"] == "per-sample" { return }
        memoryPerChannel()
        replay()
    }

    /// CPU time of the calling thread in ns: unlike the wall clock, it does not grow while another
    /// process has the core, so it is the steadier number on a shared machine.
    private static func threadCPUNanoseconds() -> Double {
        #if canImport(Glibc)
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1e9 + Double(ts.tv_nsec)
        #else
        return 0
        #endif
    }

    /// Synthetic readings shaped like a cold room (cycling, noise, a daily defrost) at 1-minute polls.
    private static func series(count: Int, seed: UInt64) -> [Double] {
        var state = seed
        var out = [Double](repeating: 0, count: count)
        for i in 0..<count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let noise = Double(state >> 11) / Double(1 << 53) - 0.5
            let phase = Double(i % 40) / 40
            out[i] = 3.5 + (phase < 0.5 ? phase : 1 - phase) - 0.25 + 0.2 * noise + (i % 360 < 15 ? 4 : 0)
        }
        return out
    }

    /// Bytes currently allocated by malloc (glibc `mallinfo2().uordblks`): the heap a structure really
    /// holds, unlike resident memory, which moves in whole pages and with the allocator's caches.
    static func heapBytes() -> Int {
        Int(coop_malloc_bytes_in_use())
    }

    /// malloc calls so far in this process (CMallocCounter interposes malloc in this executable).
    private static func mallocs() -> UInt64 { coop_malloc_count() }

    private static func perSample() {
        let channels = ProcessInfo.processInfo.environment["COOP_EDGE_BENCH_CHANNELS"].flatMap { Int($0) } ?? 64
        let warm = 600
        // COOP_EDGE_BENCH_STEADY overrides the number of timed steps (smaller for callgrind).
        let steady = ProcessInfo.processInfo.environment["COOP_EDGE_BENCH_STEADY"].flatMap { Int($0) } ?? 20_000
        // COOP_EDGE_BENCH_KIND=cold_room (etc.) measures one kind only.
        let only = ProcessInfo.processInfo.environment["COOP_EDGE_BENCH_KIND"].flatMap { ChannelKind(rawValue: $0) }
        for kind in ChannelKind.allCases where only == nil || only == kind {
            let values = series(count: warm + steady + 1, seed: 7)
            var detectors = (0..<channels).map { ChannelDetector(channel: "ch\($0)", config: .defaults(for: kind)) }
            var sink = 0.0
            let interval = detectors[0].config.sampleInterval
            for i in 0..<warm {
                for c in 0..<channels { sink += detectors[c].update(time: Double(i) * interval, value: values[i] + Double(c) * 0.01).score }
            }
            // Five timed rounds: the median is the number to quote, the best shows how much of it
            // is the machine (another process on the core only ever adds time).
            var events = 0
            let rounds = 5
            let perRound = max(1, steady / rounds)
            var cpuPerSample: [Double] = []
            var wallPerSample: [Double] = []
            let before = mallocs()
            let clock = ContinuousClock()
            var i = warm
            for _ in 0..<rounds {
                let cpuStart = threadCPUNanoseconds()
                let start = clock.now
                for _ in 0..<perRound {
                    let t = Double(i) * interval
                    let v = values[i]
                    for c in 0..<channels {
                        let out = detectors[c].update(time: t, value: v + Double(c) * 0.01)
                        sink += out.score
                        if out.hasEvent { events += 1 }
                    }
                    i += 1
                }
                let elapsed = clock.now - start
                let samples = Double(perRound * channels)
                cpuPerSample.append((threadCPUNanoseconds() - cpuStart) / samples)
                wallPerSample.append((Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9) / samples)
            }
            let after = mallocs()
            let samples = Double(rounds * perRound * channels)
            cpuPerSample.sort()
            wallPerSample.sort()
            let f = { (x: Double) in String(format: "%.1f", x) }
            print("\(kind.rawValue): \(f(wallPerSample[rounds / 2])) ns/sample/channel (median of \(rounds) rounds; best \(f(wallPerSample[0])), cpu \(f(cpuPerSample[rounds / 2])); window \(detectors[0].config.window), \(channels) channels), \(String(format: "%.4f", Double(after - before) / samples)) mallocs/sample, \(events) alert events (sink \(Int(sink) % 10))")
        }
    }

    private static func memoryPerChannel() {
        let n = 1000
        for kind in ChannelKind.allCases {
            var detectors: [ChannelDetector] = []
            detectors.reserveCapacity(n)
            let before = heapBytes()
            for c in 0..<n { detectors.append(ChannelDetector(channel: "ch\(c)", config: .defaults(for: kind))) }
            let after = heapBytes()
            let inline = MemoryLayout<ChannelDetector>.stride
            let heap = (after - before) / n
            print("\(kind.rawValue): \(inline + heap) bytes/channel (\(inline) inline + \(heap) on the heap: windows, settings, name)")
            withExtendedLifetime(detectors) {}
        }
    }

    private static func replay() {
        let root = ProcessInfo.processInfo.environment["COOP_EDGE_TRACES"] ?? "/work/shared/data/traces"
        guard let walker = FileManager.default.enumerator(atPath: root) else {
            print("replay: no traces at \(root) (set COOP_EDGE_TRACES)")
            return
        }
        var files: [(ChannelKind, [UInt8])] = []
        while let rel = walker.nextObject() as? String {
            guard rel.hasSuffix(".csv"), let data = FileManager.default.contents(atPath: root + "/" + rel) else { continue }
            files.append((ReplayPlan.inferKind(path: rel), [UInt8](data)))
        }
        guard !files.isEmpty else { print("replay: no CSV files under \(root)"); return }
        let clock = ContinuousClock()
        var rows = 0
        var bytes = 0
        let rounds = 5
        let start = clock.now
        for _ in 0..<rounds {
            for (kind, data) in files {
                let r = ReplayCSV.replay(data, kind: kind)
                rows += r.rows
                bytes += data.count
            }
        }
        let elapsed = clock.now - start
        let s = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("replay: \(Int(Double(rows) / s)) rows/s, \(String(format: "%.0f", Double(bytes) / s / 1e6)) MB/s (in memory: parse + detect + format, \(files.count) files × \(rounds))")
    }
}
