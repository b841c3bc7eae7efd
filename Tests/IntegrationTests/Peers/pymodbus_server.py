#!/usr/bin/env python3
"""An independent Modbus TCP slave (pymodbus), so that our client and our simulator cannot agree on
a shared mistake. Serves known values, packed here with Python's struct module, on the port given.

usage: pymodbus_server.py PORT          Modbus TCP on 127.0.0.1:PORT
       pymodbus_server.py --rtu DEVICE  Modbus RTU (9600 8N1) on a serial device, e.g. a socat pty
Prints 'ready' once listening.
"""
import asyncio
import struct
import sys

from pymodbus.datastore import ModbusServerContext, ModbusSlaveContext, ModbusSequentialDataBlock
from pymodbus.server import StartAsyncTcpServer
from pymodbus.server.async_io import ModbusSerialServer
from pymodbus.transaction import ModbusRtuFramer


def words(fmt, value, order="ABCD"):
    """Big-endian bytes of value, rearranged into 16-bit words in the given byte order."""
    b = struct.pack(">" + fmt, value)
    ws = [b[i:i + 2] for i in range(0, len(b), 2)]
    if order in ("CDAB", "DCBA"):
        ws = ws[::-1]
    if order in ("BADC", "DCBA"):
        ws = [w[::-1] for w in ws]
    return [int.from_bytes(w, "big") for w in ws]


# Holding registers by address (0-based protocol addresses).
HOLDING = {}
def put(addr, ws):
    for i, w in enumerate(ws):
        HOLDING[addr + i] = w

put(0, words("h", -123))                  # i16  -12.3 with scale 0.1
put(1, words("H", 65000))                 # u16  65000
put(2, words("i", -2_000_000, "CDAB"))    # i32  -20000.00 with scale 0.01, low word first
put(4, words("f", 21.5))                  # f32  21.5 ABCD
put(6, words("f", -3.25, "DCBA"))         # f32  -3.25 little-endian
put(8, words("I", 4_000_000_000, "BADC")) # u32  byte-swapped words
put(10, words("d", 1234.5678))            # f64
put(14, words("q", -9_000_000_000))       # i64
put(18, [0x7FFF])                         # a sentinel
INPUT = {0: 215, 1: 550}                  # input registers: 21.5 °C, 55.0 %RH (scale 0.1)
COILS = {3: 1}
DISCRETE = {5: 1}


def block(values, size=64):
    data = [0] * size
    for a, v in values.items():
        data[a] = v
    # pymodbus adds 1 to addresses when zero_mode is off; zero_mode=True keeps protocol addresses.
    return ModbusSequentialDataBlock(0, data)


async def main():
    slave = ModbusSlaveContext(hr=block(HOLDING), ir=block(INPUT), co=block(COILS), di=block(DISCRETE), zero_mode=True)
    context = ModbusServerContext(slaves={7: slave}, single=False)
    if sys.argv[1] == "--rtu":
        server = ModbusSerialServer(context, framer=ModbusRtuFramer, port=sys.argv[2], baudrate=9600,
                                    bytesize=8, parity="N", stopbits=1, auto_reconnect=False)
        await server.start()  # opens the port; raises if it cannot
        if server.transport is None:
            sys.exit(f"cannot open {sys.argv[2]}")
        print("ready", flush=True)
        await server.serve_forever()
        return
    port = int(sys.argv[1])
    server_task = asyncio.create_task(StartAsyncTcpServer(context, address=("127.0.0.1", port)))
    deadline = asyncio.get_running_loop().time() + 10
    while asyncio.get_running_loop().time() < deadline:
        try:
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            break
        except OSError:
            await asyncio.sleep(0.05)  # poll the listener until the deadline
    print("ready", flush=True)
    await server_task


if __name__ == "__main__":
    asyncio.run(main())
