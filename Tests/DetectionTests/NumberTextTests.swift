import Detection
import Testing

@Suite("Number text")
struct NumberTextTests {
    @Test("fixed point rounds half away from zero and prints the asked decimals", arguments: [
        (3.14159, 2, "3.14"), (2.5, 0, "3"), (-2.5, 0, "-3"), (0.05, 1, "0.1"), (-0.004, 2, "0.00"),
        (0, 0, "0"), (0, 3, "0.000"), (123_456.7891, 3, "123456.789"), (7, 9, "7.000000"), (7.25, -1, "7"),
        (1_000_000, 1, "1000000.0"), (-40, 1, "-40.0"), (9.996, 2, "10.00"),
    ] as [(Double, Int, String)])
    func fixed(_ x: Double, _ decimals: Int, _ expected: String) {
        #expect(NumberText.fixed(x, decimals: decimals) == expected)
        var bytes: [UInt8] = [0x3C]
        NumberText.append(x, decimals: decimals, to: &bytes)
        #expect(bytes == [0x3C] + Array(expected.utf8))
    }

    @Test("non-finite and huge values have a readable text")
    func special() {
        #expect(NumberText.fixed(.nan, decimals: 2) == "nan")
        #expect(NumberText.fixed(.infinity, decimals: 2) == "inf")
        #expect(NumberText.fixed(-.infinity, decimals: 0) == "-inf")
        #expect(NumberText.fixed(1e20, decimals: 2) == String(1e20))
        #expect(NumberText.fixed(-1.5e19, decimals: 0) == String(-1.5e19))
        #expect(NumberText.fixed(8.9e18, decimals: 0) == "8900000000000000000")
    }

    @Test("durations read at a glance")
    func durations() {
        #expect(NumberText.duration(30) == "30 s")
        #expect(NumberText.duration(-5) == "0 s")
        #expect(NumberText.duration(45 * 60) == "45 min")
        #expect(NumberText.duration(3600) == "1 h")
        #expect(NumberText.duration(2 * 3600 + 600) == "2 h 10 min")
        #expect(NumberText.duration(3 * 86_400) == "3 days")
    }
}
