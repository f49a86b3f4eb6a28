"""The progress bar shows running rates when stderr is a terminal, and nothing otherwise."""

from __future__ import annotations

import os
import re
import subprocess
import sys

DEMO = """
import time
from mucode.core.progress import progress_bar
state = {"tok": 0, "programs": 0}
with progress_bar("demo", lambda: dict(state)) as update:
    for i in range(4):
        time.sleep(0.1)
        state["tok"] += 100
        state["programs"] += 3
        update(i + 1, 4)
"""


def test_rates_are_drawn_on_a_terminal():
    leader, follower = os.openpty()
    proc = subprocess.Popen([sys.executable, "-c", DEMO], stderr=follower, stdout=follower)
    os.close(follower)
    proc.wait(timeout=60)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", output.decode(errors="replace"))
    assert "4/4" in text
    rates = re.findall(r"([\d.]+) tok/s ([\d.]+) programs/s", text)
    assert rates and 0 < float(rates[-1][0]) < 10_000 and float(rates[-1][1]) > 0


def test_nothing_is_drawn_into_a_pipe():
    done = subprocess.run([sys.executable, "-c", DEMO], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "" and done.stdout == ""
