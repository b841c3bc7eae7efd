/// The Modbus requests that read a device's channels: adjacent channels of one table are
/// coalesced into one request, up to the profile's per-read limit and the protocol's.
public struct ReadPlan: Sendable, Equatable {
    public struct Block: Sendable, Equatable {
        public var function: RegisterFunction
        public var address: Int
        public var count: Int
        /// Indexes into the device's channel list, with each channel's offset inside the block.
        public var members: [Member]
    }

    public struct Member: Sendable, Equatable {
        public var channelIndex: Int
        public var offset: Int
    }

    public var blocks: [Block]

    /// Groups `channels` into as few requests as possible. Two channels share a request when the gap
    /// between them is at most `maxGap` registers (reading a few unused registers is cheaper than
    /// another round trip on a 9600-baud line) and the request stays within `maxPerRead`.
    public init(channels: [ChannelSpec], maxPerRead: Int, maxGap: Int = 0) {
        var blocks: [Block] = []
        let order = channels.indices.sorted {
            (channels[$0].function.readFunctionCode, channels[$0].address) < (channels[$1].function.readFunctionCode, channels[$1].address)
        }
        for index in order {
            let ch = channels[index]
            let limit = min(max(1, maxPerRead), ch.function.maxPerRequest)
            if var last = blocks.last, last.function == ch.function,
               ch.address >= last.address,
               ch.address <= last.address + last.count + maxGap,
               max(last.address + last.count, ch.address + ch.count) - last.address <= limit {
                last.count = max(last.count, ch.address + ch.count - last.address)
                last.members.append(Member(channelIndex: index, offset: ch.address - last.address))
                blocks[blocks.count - 1] = last
            } else {
                blocks.append(Block(function: ch.function, address: ch.address, count: ch.count,
                                    members: [Member(channelIndex: index, offset: 0)]))
            }
        }
        self.blocks = blocks
    }
}
