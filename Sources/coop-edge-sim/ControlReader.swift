import FoundationEssentials
import IOThread
import EdgeCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads control commands from standard input on a thread of its own.
enum ControlReader {
    static func start(model: SimulationModel) {
        OSThread.start(name: "sim-control") {
            while let line = readLine() {
                emit(model.command(line.trimmedOfWhitespace))
            }
        }
    }

    /// Runs `commands` (simulated seconds from the start, command) on a thread of its own, repeating
    /// the schedule every `every` simulated seconds when set; prints each as `at TIME: COMMAND -> reply`.
    static func schedule(model: SimulationModel, commands: [(Double, String)], every: Double?, speed: Double) {
        let ordered = commands.sorted { $0.0 < $1.0 }
        let start = Date().timeIntervalSince1970
        OSThread.start(name: "sim-schedule") {
            var round = 0.0
            repeat {
                for (t, command) in ordered {
                    let due = start + (round + t) / max(speed, 0.001)
                    let wait = due - Date().timeIntervalSince1970
                    if wait > 0 { OSThread.sleep(seconds: wait) }
                    let reply = model.command(command)
                    emit("at \(Self.clock(round + t)) simulated: \(command) -> \(reply)")
                }
                round += every ?? 0
            } while every != nil
        }
    }

    /// One line straight to standard output. Not through stdio: flushing it (fflush(NULL)) from one
    /// thread waits for stdin's lock, which the reader thread holds while blocked in readLine.
    static func emit(_ line: String) {
        Console.out(line + "\n")
    }

    /// "5h30m" for a simulated time in seconds.
    static func clock(_ seconds: Double) -> String {
        let m = Int(seconds / 60)
        return m % 60 == 0 ? "\(m / 60)h" : "\(m / 60)h\(m % 60)m"
    }
}
