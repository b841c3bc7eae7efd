import Foundation

/// Reads control commands from standard input on a thread of its own.
enum ControlReader {
    static func start(model: SimulationModel) {
        let thread = Thread {
            while let line = readLine() {
                let reply = model.command(line.trimmingCharacters(in: .whitespaces))
                print(reply)
                fflush(nil)
            }
        }
        thread.name = "sim-control"
        thread.start()
    }
}
