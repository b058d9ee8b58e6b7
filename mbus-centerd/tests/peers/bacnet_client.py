"""A BACnet/IP client built on bacpypes3, an independent BACnet stack, browsing the logger as a
building-management system would.

Usage:
  bacnet_client.py discover LOCAL_PORT SERVER_HOST:PORT
      Who-Is sent unicast to the server (broadcasts do not cross the loopback interface), then
      for every device that answered: object-list and device properties, and for every
      analog-input present-value, units, object-name, description, status-flags, reliability and
      out-of-service, all with ReadPropertyMultiple (ALL for the first input of each device).
  bacnet_client.py cov LOCAL_PORT SERVER_HOST:PORT DEVICE SECONDS INPUT...
      Finds the device, subscribes to COV of the analog-inputs INPUT... (unconfirmed
      notifications) and collects the notifications until one input has had a second one (the
      first is the initial notification) or SECONDS have passed.
  bacnet_client.py foreign LOCAL_PORT BBMD_HOST:PORT
      Registers as foreign device with the BBMD, discovers the devices with a global Who-Is
      broadcast distributed by the BBMD, then reads each meter device's present-values.
Prints one JSON document.
"""
import asyncio
import json
import math
import sys
import time

from bacpypes3.app import Application
from bacpypes3.argparse import SimpleArgumentParser
from bacpypes3.apdu import WhoIsRequest
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import ObjectIdentifier


def app(local_port, foreign=None):
    args = ["--address", f"127.0.0.1/24:{local_port}", "--instance", "3999990"]
    if foreign:
        args += ["--foreign", foreign, "--ttl", "60"]
    return Application.from_args(SimpleArgumentParser().parse_args(args))


def plain(value):
    """A JSON-friendly form of a decoded value."""
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, ObjectIdentifier):
        return [str(value[0]), value[1]]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    # bit strings, enumerations
    if hasattr(value, "asn1"):
        return str(value)
    try:
        return [int(b) for b in value]
    except TypeError:
        return str(value)


async def read_multiple(a, address, specs):
    flat = [part for spec in specs for part in spec]
    rows = await a.read_property_multiple(address, flat)
    out = {}
    for object_id, prop, index, value in rows:
        key = f"{object_id[0]},{object_id[1]}"
        out.setdefault(key, {})[str(prop)] = plain(value)
    return out


async def browse(a, i_ams):
    devices = []
    for i_am in sorted(i_ams, key=lambda i: i.iAmDeviceIdentifier[1]):
        instance = i_am.iAmDeviceIdentifier[1]
        address = i_am.pduSource
        device = ObjectIdentifier(("device", instance))
        head = await read_multiple(
            a,
            address,
            [
                (
                    device,
                    [
                        "object-list",
                        "object-name",
                        "vendor-name",
                        "vendor-identifier",
                        "model-name",
                        "firmware-revision",
                        "protocol-services-supported",
                        "max-apdu-length-accepted",
                        "segmentation-supported",
                        "database-revision",
                    ],
                )
            ],
        )
        props = head[f"device,{instance}"]
        inputs = [o for o in props["object-list"] if o[0] == "analog-input"]
        specs = [
            (
                ObjectIdentifier(("analog-input", o[1])),
                [
                    "present-value",
                    "units",
                    "object-name",
                    "description",
                    "status-flags",
                    "reliability",
                    "out-of-service",
                ],
            )
            for o in inputs
        ]
        values = await read_multiple(a, address, specs) if specs else {}
        every = {}
        if inputs:
            every = await read_multiple(
                a, address, [(ObjectIdentifier(("analog-input", inputs[0][1])), ["all"])]
            )
        devices.append(
            {
                "instance": instance,
                "address": str(address),
                "max_apdu": i_am.maxAPDULengthAccepted,
                "vendor": i_am.vendorID,
                "device": props,
                "inputs": values,
                "all_of_first_input": every,
            }
        )
    return devices


async def who_is(a, server, low=None, high=None):
    """Every I-Am answering a Who-Is sent unicast to `server` (the logger's own and those of
    the meter devices behind it, which come from other network addresses)."""
    answers = a.who_is(low, high, timeout=3)
    request = WhoIsRequest(destination=Address(server))
    if low is not None:
        request.deviceInstanceRangeLowLimit = low
        request.deviceInstanceRangeHighLimit = high
    a.request(request)
    return await answers


async def discover(local_port, server):
    a = app(local_port)
    try:
        return await browse(a, await who_is(a, server))
    finally:
        a.close()


async def cov(local_port, server, device_instance, seconds, inputs):
    a = app(local_port)
    try:
        i_ams = await who_is(a, server, device_instance, device_instance)
        address = i_ams[0].pduSource
        notes = []
        start = time.time()
        changed = asyncio.Event()

        async def watch(instance):
            async with a.change_of_value(
                address,
                ObjectIdentifier(("analog-input", instance)),
                issue_confirmed_notifications=False,
                lifetime=120,
            ) as subscription:
                values = 0
                while not changed.is_set() and time.time() - start < seconds:
                    try:
                        prop, value = await asyncio.wait_for(subscription.get_value(), timeout=0.5)
                    except asyncio.TimeoutError:
                        continue
                    notes.append(
                        {"input": instance, "at": time.time(), "property": str(prop), "value": plain(value)}
                    )
                    # Each notification carries present-value and status-flags; the first is
                    # the initial one, the next follows a new reading.
                    values += str(prop) == "present-value"
                    if values >= 2:
                        changed.set()

        await asyncio.gather(*(watch(i) for i in inputs))
        return {"address": str(address), "subscribed_at": start, "notifications": notes}
    finally:
        a.close()


async def foreign(local_port, bbmd):
    a = app(local_port, foreign=bbmd)
    try:
        # Let the registration complete before broadcasting through the BBMD.
        await asyncio.sleep(1.0)
        i_ams = await a.who_is(timeout=4)
        return await browse(a, i_ams)
    finally:
        a.close()


def main():
    mode = sys.argv[1]
    if mode == "discover":
        result = asyncio.run(discover(int(sys.argv[2]), sys.argv[3]))
    elif mode == "cov":
        result = asyncio.run(
            cov(
                int(sys.argv[2]),
                sys.argv[3],
                int(sys.argv[4]),
                float(sys.argv[5]),
                [int(i) for i in sys.argv[6:]],
            )
        )
    elif mode == "foreign":
        result = asyncio.run(foreign(int(sys.argv[2]), sys.argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode}")
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
