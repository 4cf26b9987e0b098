"""A real Modbus TCP peer for the gateway tests: pymodbus (Debian python3-pymodbus) serving one
unit on 127.0.0.1. Debian's `pymodbus.server` CLI is broken, hence this script.

usage: pymodbus-server.py PORT SPEC_JSON
SPEC_JSON: {"size": 1000, "hr": {"0": [1, 2]}, "ir": {...}, "co": {"5": [1]}, "di": {...},
            "typed": [{"table": "hr", "address": 10, "type": "float32", "wordOrder": "little", "value": 1.5}]}
"typed" values are packed here with Python's struct (big-endian bytes per word, words swapped for
"little"), independently of the gateway's decoder the tests check.
Each block holds `size` values starting at address 0 (zero_mode): a read past it is answered with
exception 2 (illegal data address). Prints "ready PORT" once listening.
"""
import asyncio
import json
import struct
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartAsyncTcpServer


FORMATS = {"int16": ">h", "uint16": ">H", "int32": ">i", "uint32": ">I", "float32": ">f", "float64": ">d"}


def typed_words(item):
    fmt = FORMATS[item["type"]]
    value = float(item["value"]) if item["type"].startswith("float") else int(item["value"])
    raw = struct.pack(fmt, value)
    words = [struct.unpack(">H", raw[i:i + 2])[0] for i in range(0, len(raw), 2)]
    return words if item.get("wordOrder", "big") == "big" else list(reversed(words))


def block(spec, key, size):
    values = [0] * size
    for start, words in spec.get(key, {}).items():
        for i, w in enumerate(words):
            values[int(start) + i] = w
    for item in spec.get("typed", []):
        if item["table"] == key:
            for i, w in enumerate(typed_words(item)):
                values[int(item["address"]) + i] = w
    return ModbusSequentialDataBlock(0, values)


async def main():
    port = int(sys.argv[1])
    spec = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    size = int(spec.get("size", 1000))
    slave = ModbusSlaveContext(di=block(spec, "di", size), co=block(spec, "co", size),
                               hr=block(spec, "hr", size), ir=block(spec, "ir", size), zero_mode=True)
    context = ModbusServerContext(slaves=slave, single=True)
    server = await StartAsyncTcpServer(context, address=("127.0.0.1", port), defer_start=True)
    task = asyncio.create_task(server.serve_forever())
    await server.serving
    print(f"ready {port}", flush=True)
    await task


asyncio.run(main())
