import Testing
@testable import EdgeCore

@Suite("ReadPlan")
struct ReadPlanTests {
    typealias Block = ReadPlan.Block
    typealias Member = ReadPlan.Member

    func ch(_ function: RegisterFunction, _ address: Int, _ type: ValueType = .u16, _ name: String = "c") -> ChannelSpec {
        ChannelSpec(name: name, function: function, address: address, type: type)
    }

    @Test("adjacent channels of one table become one request")
    func coalesces() {
        // The th-transmitter profile: input 1 (i16) and input 2 (u16).
        let plan = ReadPlan(channels: [ch(.input, 1, .i16), ch(.input, 2)], maxPerRead: 2)
        #expect(plan.blocks == [
            Block(function: .input, address: 1, count: 2, members: [Member(channelIndex: 0, offset: 0), Member(channelIndex: 1, offset: 1)]),
        ])
    }

    @Test("multi-register channels coalesce by their full width")
    func multiRegister() {
        // The weighing transmitter: i32 at 0, i32 at 2, u16 at 4 → one read of 5 registers.
        let channels = [ch(.holding, 0, .i32), ch(.holding, 2, .i32), ch(.holding, 4, .u16)]
        let plan = ReadPlan(channels: channels, maxPerRead: 125)
        #expect(plan.blocks == [
            Block(function: .holding, address: 0, count: 5, members: [
                Member(channelIndex: 0, offset: 0), Member(channelIndex: 1, offset: 2), Member(channelIndex: 2, offset: 4),
            ]),
        ])
        // With a limit of 4 the u16 needs a second request; a 64-bit value alone needs 4.
        #expect(ReadPlan(channels: channels, maxPerRead: 4).blocks.map(\.count) == [4, 1])
        #expect(ReadPlan(channels: [ch(.holding, 0, .f64), ch(.holding, 4, .f64)], maxPerRead: 8).blocks.map(\.count) == [8])
        #expect(ReadPlan(channels: [ch(.holding, 0, .f64), ch(.holding, 4, .f64)], maxPerRead: 7).blocks.map(\.count) == [4, 4])
    }

    @Test("max_registers_per_read 2 splits three adjacent u16s into two requests")
    func limitSplit() {
        let plan = ReadPlan(channels: [ch(.holding, 10), ch(.holding, 11), ch(.holding, 12)], maxPerRead: 2)
        #expect(plan.blocks == [
            Block(function: .holding, address: 10, count: 2, members: [Member(channelIndex: 0, offset: 0), Member(channelIndex: 1, offset: 1)]),
            Block(function: .holding, address: 12, count: 1, members: [Member(channelIndex: 2, offset: 0)]),
        ])
    }

    @Test("a limit of 1 reads every register alone; 0 or less is treated as 1")
    func limitOne() {
        let channels = [ch(.holding, 0), ch(.holding, 1), ch(.holding, 2)]
        #expect(ReadPlan(channels: channels, maxPerRead: 1).blocks.count == 3)
        #expect(ReadPlan(channels: channels, maxPerRead: 0).blocks.count == 3)
        #expect(ReadPlan(channels: channels, maxPerRead: -5).blocks.count == 3)
    }

    @Test("the protocol's own limit applies above the profile's: 125 registers, 2000 bits")
    func protocolLimit() {
        let registers = (0..<130).map { ch(.holding, $0) }
        #expect(ReadPlan(channels: registers, maxPerRead: 10_000).blocks.map(\.count) == [125, 5])
        let coils = (0..<2001).map { ch(.coil, $0, .bool) }
        #expect(ReadPlan(channels: coils, maxPerRead: 10_000).blocks.map(\.count) == [2000, 1])
    }

    @Test("different functions are never merged, even at adjacent or equal addresses")
    func differentFunctions() {
        let plan = ReadPlan(channels: [ch(.input, 1), ch(.holding, 0), ch(.holding, 2), ch(.input, 0),
                                       ch(.coil, 3, .bool), ch(.discrete, 4, .bool), ch(.coil, 4, .bool)], maxPerRead: 125)
        #expect(plan.blocks.map(\.function) == [.coil, .discrete, .holding, .holding, .input])
        for block in plan.blocks {
            #expect(Set(block.members.map(\.channelIndex)).count == block.members.count)
        }
        #expect(plan.blocks[0] == Block(function: .coil, address: 3, count: 2,
                                        members: [Member(channelIndex: 4, offset: 0), Member(channelIndex: 6, offset: 1)]))
        #expect(plan.blocks[4] == Block(function: .input, address: 0, count: 2,
                                        members: [Member(channelIndex: 3, offset: 0), Member(channelIndex: 0, offset: 1)]))
    }

    @Test("a gap splits requests unless maxGap allows reading over it")
    func gaps() {
        let channels = [ch(.holding, 0), ch(.holding, 5)]
        #expect(ReadPlan(channels: channels, maxPerRead: 125).blocks.count == 2)
        #expect(ReadPlan(channels: channels, maxPerRead: 125, maxGap: 3).blocks.count == 2)
        let bridged = ReadPlan(channels: channels, maxPerRead: 125, maxGap: 4)
        #expect(bridged.blocks == [
            Block(function: .holding, address: 0, count: 6, members: [Member(channelIndex: 0, offset: 0), Member(channelIndex: 1, offset: 5)]),
        ])
        // ... but never past the per-read limit.
        #expect(ReadPlan(channels: channels, maxPerRead: 5, maxGap: 10).blocks.count == 2)
    }

    @Test("channels listed out of order are planned in address order with their original indexes")
    func unsorted() {
        let plan = ReadPlan(channels: [ch(.holding, 2), ch(.holding, 0), ch(.holding, 1)], maxPerRead: 125)
        #expect(plan.blocks == [
            Block(function: .holding, address: 0, count: 3, members: [
                Member(channelIndex: 1, offset: 0), Member(channelIndex: 2, offset: 1), Member(channelIndex: 0, offset: 2),
            ]),
        ])
    }

    @Test("overlapping channels share registers")
    func overlapping() {
        let plan = ReadPlan(channels: [ch(.holding, 0, .u32), ch(.holding, 1, .u16), ch(.holding, 0, .u16)], maxPerRead: 125)
        #expect(plan.blocks.count == 1)
        #expect(plan.blocks[0].count == 2)
        #expect(Set(plan.blocks[0].members.map(\.channelIndex)) == [0, 1, 2])
    }

    @Test("no channels, no requests")
    func empty() {
        #expect(ReadPlan(channels: [], maxPerRead: 125).blocks.isEmpty)
    }

    @Test("random channel sets: every channel is read exactly once, inside its block, within the limit")
    func randomPlans() {
        var rng = SeededGenerator(seed: 7)
        let types: [ValueType] = [.u16, .i16, .u32, .f32, .u64, .f64]
        for round in 0..<400 {
            let n = Int.random(in: 0...20, using: &rng)
            let limit = Int.random(in: 4...130, using: &rng)
            let gap = Int.random(in: 0...3, using: &rng)
            let channels: [ChannelSpec] = (0..<n).map { _ in
                let function = RegisterFunction.allCases.randomElement(using: &rng)!
                let type = function.isBit ? ValueType.bool : types.randomElement(using: &rng)!
                return ch(function, Int.random(in: 0...40, using: &rng), type)
            }
            let plan = ReadPlan(channels: channels, maxPerRead: limit, maxGap: gap)
            var seen = [Int](repeating: 0, count: n)
            for block in plan.blocks {
                #expect(block.count <= min(limit, block.function.maxPerRequest), "round \(round)")
                for m in block.members {
                    seen[m.channelIndex] += 1
                    let c = channels[m.channelIndex]
                    #expect(c.function == block.function)
                    #expect(c.address == block.address + m.offset)
                    #expect(m.offset >= 0 && m.offset + c.count <= block.count, "round \(round)")
                }
            }
            #expect(seen.allSatisfy { $0 == 1 }, "round \(round)")
        }
    }
}
