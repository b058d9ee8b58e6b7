"""Reads meters through a transparent M-Bus TCP gateway with pyMeterBus, an independent
M-Bus master, as a technician's Python tooling would.

Usage: pymeterbus_master.py socket://HOST:PORT OP...
OP is `primary:N` (SND_NKE, then REQ_UD2 to address N) or `secondary:ADDRESS` (select the
meter with the 16-digit secondary address as written on the command line, then REQ_UD2 to
address 253). Prints a JSON list, one object per OP: whether the meter acknowledged, its
identification and manufacturer from the reply, and every numeric record value.
"""
import json
import sys

import meterbus
import serial


def reply(ser):
    frame = meterbus.recv_frame(ser, meterbus.FRAME_DATA_LENGTH)
    if not frame:
        return None
    body = json.loads(meterbus.load(frame).to_JSON())["body"]
    values = [r["value"] for r in body["records"] if isinstance(r.get("value"), (int, float))]
    header = body["header"]
    ident = "".join(b[2:].zfill(2) for b in header["identification"].split(", "))
    return {"id": ident, "manufacturer": header["manufacturer"], "values": values}


def main():
    ser = serial.serial_for_url(
        sys.argv[1], baudrate=2400, bytesize=8, parity=serial.PARITY_EVEN, stopbits=1, timeout=1.5
    )
    results = []
    for op in sys.argv[2:]:
        kind, _, target = op.partition(":")
        if kind == "primary":
            meterbus.send_ping_frame(ser, int(target))
            ack = meterbus.recv_frame(ser, 1) == b"\xe5"
            meterbus.send_request_frame(ser, int(target))
        else:
            meterbus.send_select_frame(ser, target)
            ack = meterbus.recv_frame(ser, 1) == b"\xe5"
            if not ack:
                results.append({"op": op, "ack": False})
                continue
            meterbus.send_request_frame(ser, meterbus.ADDRESS_NETWORK_LAYER)
        result = reply(ser) or {}
        result.update({"op": op, "ack": ack})
        results.append(result)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
