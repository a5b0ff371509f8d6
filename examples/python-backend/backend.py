#!/usr/bin/env python3
"""A small application backend behind Switchboard (Python standard library only).

Switchboard forwards every call of the methods that `catalog.json` routes to
the upstream "notes" as one HTTP POST with the JSON body

    {"method": "notes.add", "params": {...} or null, "id": <client's id or null>,
     "connection": {"id": 12, "subprotocol": "jsonrpc", "path": "/", "peer": "...",
                    "origin": ... or null, "user": ... or null}}

and expects 200 with {"result": ...} or {"error": {"code", "message", "data"?}}.

Methods:
  greet       {"name": string}  -> "Hello, NAME!"
  notes.add   {"text": string}  -> the stored note; also publishes it to the
                                   topic "notes" through Switchboard's server API
                                   (POST /api/publish), so every client
                                   subscribed to "notes" gets an "event"
  notes.list  none              -> every note stored so far (in memory)
  notes.mine  none              -> the notes added by the calling connection

Run:  python3 backend.py --port 9000 [--switchboard http://127.0.0.1:8080]
                         [--token ADMIN_TOKEN] [--secret BACKEND_SECRET]
(or the environment variables SWITCHBOARD_URL, SWITCHBOARD_TOKEN, BACKEND_SECRET).
"""

import argparse
import datetime
import json
import os
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1024 * 1024


class RpcError(Exception):
    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code, self.message, self.data = code, message, data

    def reply(self):
        error = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return {"error": error}


def invalid_params(message, path):
    return RpcError(-32602, "Invalid params", [{"path": path, "message": message}])


def string_param(params, key, max_length=1000):
    if not isinstance(params, dict):
        raise invalid_params("params must be an object", "")
    value = params.get(key)
    if not isinstance(value, str) or not value.strip():
        raise invalid_params(f'"{key}" must be a non-empty string', "/" + key)
    if len(value) > max_length:
        raise invalid_params(f'"{key}" is longer than {max_length} characters', "/" + key)
    return value


class Switchboard:
    """Client of Switchboard's server API (an application backend reaching clients)."""

    def __init__(self, url, token):
        self.url = url.rstrip("/")
        self.token = token

    def _post(self, path, body):
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        if self.token:
            request.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)

    def publish(self, topic, data):
        """Pushes {topic, data} to the topic's subscribers; returns how many were reached."""
        return self._post("/api/publish", {"topic": topic, "data": data})["reached"]


class Notes:
    def __init__(self, switchboard):
        self.switchboard = switchboard
        self.lock = threading.Lock()
        self.notes = []

    def call(self, method, params, connection):
        if method == "greet":
            return f"Hello, {string_param(params, 'name', 100)}!"
        if method == "notes.add":
            text = string_param(params, "text")
            with self.lock:
                note = {"id": len(self.notes) + 1, "text": text, "connection": connection.get("id"),
                        "user": connection.get("user"),
                        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
                self.notes.append(note)
            try:
                reached = self.switchboard.publish("notes", {"added": note})
            except (OSError, ValueError, KeyError) as e:
                # The note is stored either way; the caller learns nobody was told.
                print(f"publish to Switchboard failed: {e}", file=sys.stderr)
                reached = None
            return dict(note, reached=reached)
        if method == "notes.list":
            with self.lock:
                return list(self.notes)
        if method == "notes.mine":
            with self.lock:
                return [n for n in self.notes if n["connection"] == connection.get("id")]
        raise RpcError(-32601, "Method not found", {"method": method})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: Switchboard reuses its connections
    server_version = "notes-backend"

    def send_json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            self.send_json(200, {"status": "ok"})
        else:
            self.send_json(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            self.send_json(413, {"error": "body too large"})
            return
        raw = self.rfile.read(length)
        secret = self.server.secret
        if secret and self.headers.get("Authorization") != "Bearer " + secret:
            self.send_json(401, {"error": "wrong or missing backend secret"})
            return
        try:
            call = json.loads(raw)
            method, params, connection = call["method"], call.get("params"), call.get("connection") or {}
        except (ValueError, TypeError, KeyError):
            self.send_json(400, {"error": "expected {method, params, id, connection}"})
            return
        try:
            reply = {"result": self.server.app.call(method, params, connection)}
        except RpcError as e:
            reply = e.reply()
        self.send_json(200, reply)

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)


def main():
    parser = argparse.ArgumentParser(description="Example application backend for Switchboard.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000, help="0 picks a free port")
    parser.add_argument("--switchboard", default=os.environ.get("SWITCHBOARD_URL", "http://127.0.0.1:8080"),
                        help="Switchboard's HTTP address for the server API (env SWITCHBOARD_URL)")
    parser.add_argument("--token", default=os.environ.get("SWITCHBOARD_TOKEN"),
                        help="Switchboard's admin token (env SWITCHBOARD_TOKEN)")
    parser.add_argument("--secret", default=os.environ.get("BACKEND_SECRET"),
                        help="when set, calls must carry 'Authorization: Bearer SECRET' (env BACKEND_SECRET)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args()

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.app = Notes(Switchboard(args.switchboard, args.token))
    server.secret = args.secret
    server.verbose = args.verbose
    host, port = server.server_address[:2]
    print(f"listening http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
