#!/usr/bin/env python3
"""Reads registers from a Modbus RTU slave with pymodbus (an independent master, for the tests).

usage: rtu_read.py PORT BAUD SLAVE FUNCTION ADDRESS COUNT     (FUNCTION: holding | input)
Prints the register words, space-separated, or 'error: …' and exits 1.
"""
import sys

from pymodbus.client import ModbusSerialClient
try:
    from pymodbus.transaction import ModbusRtuFramer
except ImportError:  # newer pymodbus
    from pymodbus.framer import ModbusRtuFramer

port, baud, slave, function, address, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
client = ModbusSerialClient(port=port, framer=ModbusRtuFramer, baudrate=baud, bytesize=8, parity="N", stopbits=1, timeout=3)
if not client.connect():
    print(f"error: cannot open {port}")
    sys.exit(1)
read = client.read_holding_registers if function == "holding" else client.read_input_registers
result = None
for attempt in range(3):  # a loaded CI machine can miss pymodbus's timeout once
    try:
        try:
            result = read(address, count, slave=slave)
        except TypeError:
            result = read(address, count, unit=slave)
    except Exception as e:  # pymodbus raises on a timeout in some versions
        result = None
        print(f"attempt {attempt + 1}: {e}", file=sys.stderr)
        continue
    if not result.isError():
        break
    print(f"attempt {attempt + 1}: {result}", file=sys.stderr)
client.close()
if result is None or result.isError():
    print(f"error: {result}")
    sys.exit(1)
print(" ".join(str(w) for w in result.registers))
