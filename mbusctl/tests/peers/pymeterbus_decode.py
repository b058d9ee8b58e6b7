"""Decodes telegrams with pyMeterBus, an independent M-Bus implementation, and compares every
numeric value with what `mbusctl decode --format json` reports for the same file.

Usage: pymeterbus_decode.py MBUSCTL FILE.hex...
Prints one JSON object: files compared, values compared, files pyMeterBus cannot decode, and
every disagreement. pyMeterBus gives durations in seconds; ours are in the unit the VIF names,
so durations are converted before comparing.
"""
import json
import re
import subprocess
import sys

import meterbus

SECONDS = {"s": 1, "min": 60, "h": 3600, "d": 86400}


def ours(mbusctl, path):
    out = subprocess.check_output([mbusctl, "decode", "--format", "json", path])
    return [r for r in json.loads(out)["records"] if r["kind"] == "data"]


def theirs(path):
    data = bytes.fromhex(re.sub(r"[^0-9A-Fa-f]", "", open(path).read()))
    return json.loads(meterbus.load(data).to_JSON())["body"]["records"]


def main():
    mbusctl, files = sys.argv[1], sys.argv[2:]
    report = {"files": 0, "values": 0, "undecodable": [], "disagreements": []}
    for path in files:
        try:
            their_records = theirs(path)
        except Exception as error:  # pyMeterBus rejects what it does not support
            report["undecodable"].append(f"{path}: {type(error).__name__}")
            continue
        report["files"] += 1
        for index, (mine, other) in enumerate(zip(ours(mbusctl, path), their_records)):
            value = mine["value"]
            if value["type"] not in ("decimal", "real"):
                continue
            text = value.get("text")
            try:
                their_value = float(other.get("value"))
            except (TypeError, ValueError):
                report["disagreements"].append(f"{path} #{index}: ours {text}, theirs {other.get('value')!r}")
                continue
            my_value = float(text) if text else None
            if my_value is not None and "SECONDS" in str(other.get("unit")):
                my_value *= SECONDS.get(mine["unit"], 1)
            if my_value is None or abs(my_value - their_value) > 1e-6 * max(1.0, abs(my_value)):
                report["disagreements"].append(
                    f"{path} #{index} {mine['quantity']}: ours {text} {mine['unit']}, "
                    f"theirs {their_value} {other.get('unit')}"
                )
            report["values"] += 1
    print(json.dumps(report))


if __name__ == "__main__":
    main()
