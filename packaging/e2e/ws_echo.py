#!/usr/bin/python3
"""Calls `echo` on a running Switchboard over both subprotocols.

Usage: ws_echo.py ws://127.0.0.1:PORT/path
Needs Debian's python3-websockets (run it with /usr/bin/python3). Exit code 0
when both replies are right; prints one line per subprotocol.
"""

import asyncio
import json
import sys

import websockets

TIMEOUT_S = 10


async def call(url, subprotocol, request, expected):
    async with websockets.connect(url, subprotocols=[subprotocol], open_timeout=TIMEOUT_S) as ws:
        if ws.subprotocol != subprotocol:
            raise AssertionError(f"{subprotocol}: the server chose {ws.subprotocol!r}")
        await ws.send(json.dumps(request))
        reply = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT_S))
        if reply != expected:
            raise AssertionError(f"{subprotocol}: expected {expected}, got {reply}")
        print(f"ok {subprotocol}: sent {json.dumps(request)} got {json.dumps(reply)}")


async def main(url):
    params = {"from": "check-package", "list": [1, 2.5, None, "ü"]}
    await call(url, "jsonrpc",
               {"jsonrpc": "2.0", "method": "echo", "params": params, "id": 7},
               {"jsonrpc": "2.0", "result": params, "id": 7})
    await call(url, "dm-rpc",
               ["echo", params, "req-1"],
               ["echo", params, "req-1"])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    try:
        asyncio.run(main(sys.argv[1]))
    except Exception as error:  # one line, then a non-zero exit
        sys.exit(f"FAIL {type(error).__name__}: {error}")
