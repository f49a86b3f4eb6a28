"""A deterministic OpenAI-compatible chat server for tests, run as its own process.

Its answer is a function of the request alone (messages, seed, sampling settings), as a
seeded sampler's is, so two servers answer one request alike. Each server logs every
request it receives (``recv KEY``) and every answer as it sends it (``sent KEY``; ``fail
KEY`` for a 503) to its own file, so a test sees which server did what, even after killing
it. The key is the last message's content (as a JSON string) and the seed.

    python openai_stub.py --log FILE [--delay S] [--fail N]   # prints its port, then serves
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

WORDS = ("alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa")


def answer(messages: list[dict], seed: int, temperature: float, max_tokens: int) -> str:
    """The text any stub answers to this request."""
    request = json.dumps([messages, seed, temperature, max_tokens], sort_keys=True)
    rng = random.Random(hashlib.sha256(request.encode()).hexdigest())
    return " ".join(rng.choice(WORDS) for _ in range(min(max_tokens, 8)))


def request_key(content: str, seed: int) -> str:
    """How the log names a request (on one line, whatever the content)."""
    return f"{json.dumps(content)}#{seed}"


@dataclass
class Stub:
    """A running stub server (a child process of the test)."""

    process: subprocess.Popen
    url: str
    log: Path

    def lines(self, kind: str) -> list[str]:
        """The keys of the log lines of ``kind`` (recv, sent or fail), in order."""
        if not self.log.exists():
            return []
        entries = (line.split(" ", 1) for line in self.log.read_text().splitlines())
        return [key for k, key in entries if k == kind]

    def kill(self) -> None:
        """SIGKILL: open connections break, new ones are refused."""
        self.process.kill()
        self.process.wait()


def start_stub(log: Path, delay_s: float = 0.0, fail: int = 0) -> Stub:
    """A stub on a free loopback port, answering after ``delay_s``, its first ``fail``
    requests with 503."""
    command = [sys.executable, __file__, "--log", str(log), "--delay", str(delay_s),
               "--fail", str(fail)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    port = int(process.stdout.readline())
    return Stub(process, f"http://127.0.0.1:{port}/v1", log)


def _serve(log: Path, delay_s: float, fail: int) -> None:
    lock = threading.Lock()
    received = [0]
    out = log.open("a", encoding="utf-8")

    def note(kind: str, key: str) -> None:
        with lock:
            out.write(f"{kind} {key}\n")
            out.flush()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = request_key(body["messages"][-1]["content"], body["seed"])
            note("recv", key)
            with lock:
                received[0] += 1
                failing = received[0] <= fail
            time.sleep(delay_s)
            if failing:
                note("fail", key)
                self._reply(503, {"error": {"message": "overloaded", "type": "server_error"}})
                return
            text = answer(body["messages"], body["seed"], body.get("temperature", 1.0),
                          body.get("max_tokens", 16))  # fmt: skip
            note("sent", key)  # before the reply: once the client has it, the log has it
            self._reply(200, {
                "id": "stub", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": len(text.split()),
                          "total_tokens": 1 + len(text.split())},
            })  # fmt: skip

        def _reply(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--fail", type=int, default=0)
    args = parser.parse_args()
    _serve(args.log, args.delay, args.fail)
