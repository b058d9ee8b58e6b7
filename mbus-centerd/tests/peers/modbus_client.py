"""A Modbus TCP client built on pymodbus, an independent Modbus implementation, reading the
logger's registers as a building-management system would.

Usage:
  modbus_client.py HOST PORT WORD_ORDER < READS
      READS is a JSON list of {"address": A, "type": T} with T one of uint16, int16, uint32,
      int32, float32 (32-bit types in WORD_ORDER: big = high word first, little = low word
      first), or {"address": A, "count": N, "function": 3|4} for raw registers. Each read is one
      request (function code 4 unless given). Prints a JSON list with one entry per read: the
      decoded value (null for a NaN float), the list of raw registers, or
      {"exception": CODE} when the server answered with a Modbus exception.
"""
import json
import math
import sys

from pymodbus.client import ModbusTcpClient

TYPES = {
    "uint16": (ModbusTcpClient.DATATYPE.UINT16, 1),
    "int16": (ModbusTcpClient.DATATYPE.INT16, 1),
    "uint32": (ModbusTcpClient.DATATYPE.UINT32, 2),
    "int32": (ModbusTcpClient.DATATYPE.INT32, 2),
    "float32": (ModbusTcpClient.DATATYPE.FLOAT32, 2),
}


def main():
    host, port, word_order = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    reads = json.load(sys.stdin)
    client = ModbusTcpClient(host, port=port, timeout=5, retries=0)
    if not client.connect():
        sys.exit(f"cannot connect to {host}:{port}")
    out = []
    for read in reads:
        kind = read.get("type")
        if kind is None:
            count = read["count"]
            call = (client.read_holding_registers if read.get("function") == 3
                    else client.read_input_registers)
        else:
            data_type, count = TYPES[kind]
            call = client.read_input_registers
        answer = call(read["address"], count=count)
        if answer.isError():
            out.append({"exception": answer.exception_code})
        elif kind is None:
            out.append(list(answer.registers))
        else:
            value = client.convert_from_registers(answer.registers, data_type, word_order=word_order)
            out.append(None if isinstance(value, float) and math.isnan(value) else value)
    client.close()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
