import Detection
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Detector benchmarks: time per sample at window 256, heap growth per sample in steady state,
/// memory per channel, and replay throughput over the labelled traces.
///
/// How allocations are measured: glibc `mallinfo2()` before and after a steady-state run; the
/// difference of `uordblks + hblkhd` (bytes in use) divided by the sample count. This catches any
/// allocation that is retained, not a transient malloc+free pair; to count transient allocations too,
/// run the binary under an LD_PRELOAD malloc counter (docs/detection.md shows how).
enum DetectionBenchmarks {
    static func run() {
        print("== Detection")
        perSample()
        memoryPerChannel()
        replay()
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

    /// Bytes in use on the glibc heap (`mallinfo2().uordblks + hblkhd`), or nil where it cannot be read.
    /// Glibc's module map does not include <malloc.h>, so the function is looked up with `dlsym`. It returns
    /// an 80-byte struct, which the x86-64 SysV ABI returns through a hidden pointer in the first argument
    /// register; that lets Swift call it as `(pointer) -> pointer`. On other architectures (aarch64 passes the
    /// pointer in x8) this is not possible without a C shim, and the benchmark says n/a.
    private static func heapInUse() -> Int? {
        #if canImport(Glibc) && arch(x86_64)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallinfo2") else { return nil }
        typealias Fn = @convention(c) (UnsafeMutableRawPointer) -> UnsafeMutableRawPointer?
        let fn = unsafeBitCast(symbol, to: Fn.self)
        var info = [Int](repeating: 0, count: 10)  // struct mallinfo2: ten size_t fields
        info.withUnsafeMutableBytes { _ = fn($0.baseAddress!) }
        return info[7] + info[4]  // uordblks + hblkhd
        #else
        return nil
        #endif
    }

    private static func perSampleText(_ before: Int?, _ after: Int?, _ samples: Double) -> String {
        guard let before, let after else { return "n/a" }
        return String(format: "%.4f", Double(after - before) / samples)
    }

    private static func perSample() {
        let channels = 64
        let warm = 600
        let steady = 20_000
        for kind in ChannelKind.allCases {
            let values = series(count: warm + steady, seed: 7)
            var detectors = (0..<channels).map { ChannelDetector(channel: "ch\($0)", config: .defaults(for: kind)) }
            var sink = 0.0
            let interval = detectors[0].config.sampleInterval
            for i in 0..<warm {
                for c in 0..<channels { sink += detectors[c].update(time: Double(i) * interval, value: values[i] + Double(c) * 0.01).score }
            }
            let before = heapInUse()
            let clock = ContinuousClock()
            let start = clock.now
            for i in warm..<(warm + steady) {
                let t = Double(i) * interval
                let v = values[i]
                for c in 0..<channels { sink += detectors[c].update(time: t, value: v + Double(c) * 0.01).score }
            }
            let elapsed = clock.now - start
            let after = heapInUse()
            let samples = Double(steady * channels)
            let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            print("\(kind.rawValue): \(String(format: "%.1f", ns / samples)) ns/sample/channel (window \(detectors[0].config.window), \(channels) channels), heap growth \(perSampleText(before, after, samples)) bytes/sample (sink \(Int(sink) % 10))")
        }
    }

    private static func memoryPerChannel() {
        let n = 1000
        for kind in ChannelKind.allCases {
            let before = heapInUse()
            var detectors: [ChannelDetector] = []
            detectors.reserveCapacity(n)
            for c in 0..<n { detectors.append(ChannelDetector(channel: "ch\(c)", config: .defaults(for: kind))) }
            let after = heapInUse()
            let inline = MemoryLayout<ChannelDetector>.stride
            let heap = before.flatMap { b in after.map { String(($0 - b) / n) } } ?? "n/a"
            print("\(kind.rawValue): \(heap) bytes/channel (heap, including the \(inline) bytes inline)")
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
