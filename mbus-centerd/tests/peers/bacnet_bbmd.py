"""A BACnet/IP BBMD built on bacpypes3 (an independent BACnet stack) that accepts foreign-device
registrations, for the tests that reach the logger through a BBMD.

Usage: bacnet_bbmd.py PORT
Serves on 127.0.0.1:PORT until it is terminated; prints "ready" once it listens.
"""
import asyncio
import sys

from bacpypes3.app import Application
from bacpypes3.argparse import SimpleArgumentParser


async def main(port):
    address = f"127.0.0.1/24:{port}"
    args = SimpleArgumentParser().parse_args(
        ["--address", address, "--instance", "3999991", "--bbmd", address]
    )
    app = Application.from_args(args)
    print("ready", flush=True)
    try:
        await asyncio.Future()
    finally:
        app.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
