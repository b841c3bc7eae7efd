import ArgumentParser
let extraCommands: [any ParsableCommand.Type] = []
