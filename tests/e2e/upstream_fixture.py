#!/usr/bin/env python3
"""A test upstream for the end-to-end tests: a real HTTP/1.1 keep-alive server
(standard library only) that answers Switchboard's upstream calls.

Started by the tests on a free port; prints that port on stdout once it
listens. What it does is chosen by the called method's name (its last
dot-separated part, so `app.slow` behaves as `slow`):

  slow      sleeps params.ms milliseconds (default 1000), then as `ok`
  fail      200 {"error": {"code": 4001, "message": "card declined", "data": {...}}}
  status    HTTP params.status (default 502) with a JSON body
  garbage   200 with a body that is not JSON
  noresult  200 with a JSON object that has neither result nor error
  baderror  200 {"error": "..."}: an error that is not an object
  anything else (`ok`): 200 {"result": {"method", "params", "id", "connection"}}

Every POST is recorded when it arrives (before any sleep):
  GET  /_requests  -> [{"path", "httpVersion", "headers", "body", "peer"}, ...]
  GET  /_stats     -> {"inFlight": n, "maxInFlight": n, "completed": n}
  POST /_reset     -> clears the record and the counters
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.completed = 0


STATE = State()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_body(self, status, data, content_type="application/json"):
        if not isinstance(data, bytes):
            data = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def do_GET(self):
        with STATE.lock:
            if self.path == "/_requests":
                body = list(STATE.requests)
            elif self.path == "/_stats":
                body = {"inFlight": STATE.in_flight, "maxInFlight": STATE.max_in_flight,
                        "completed": STATE.completed}
            else:
                body = None
        if body is None:
            self.send_body(404, {"error": "not found"})
        else:
            self.send_body(200, body)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/_reset":
            with STATE.lock:
                STATE.reset()
            self.send_body(200, {"reset": True})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"unparsed": raw.decode("utf-8", "replace")}
        record = {"path": self.path, "httpVersion": self.request_version,
                  "headers": [[k, v] for k, v in self.headers.items()], "body": body,
                  "peer": f"{self.client_address[0]}:{self.client_address[1]}"}
        with STATE.lock:
            STATE.requests.append(record)
            STATE.in_flight += 1
            STATE.max_in_flight = max(STATE.max_in_flight, STATE.in_flight)
        try:
            self.answer(body if isinstance(body, dict) else {})
        finally:
            with STATE.lock:
                STATE.in_flight -= 1
                STATE.completed += 1

    def answer(self, call):
        method = str(call.get("method", ""))
        params = call.get("params")
        args = params if isinstance(params, dict) else {}
        behaviour = method.rsplit(".", 1)[-1]
        if behaviour == "slow":
            time.sleep(float(args.get("ms", 1000)) / 1000)
        if behaviour == "fail":
            self.send_body(200, {"error": {"code": 4001, "message": "card declined",
                                           "data": {"method": method, "params": params}}})
        elif behaviour == "status":
            self.send_body(int(args.get("status", 502)), {"error": "the fixture was told to fail"})
        elif behaviour == "garbage":
            self.send_body(200, b"this is not JSON", "text/plain")
        elif behaviour == "noresult":
            self.send_body(200, {"hello": "world"})
        elif behaviour == "baderror":
            self.send_body(200, {"error": "something went wrong"})
        else:
            self.send_body(200, {"result": {"method": method, "params": params, "id": call.get("id"),
                                            "connection": call.get("connection")}})


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Switchboard may drop a connection whose call it gave up on: not an error here.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
