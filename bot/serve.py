"""Serve everything on localhost: the action server (5055), the Rasa server (5005, REST channel, HTTP API) and
the web server (8080: the demo page with the help widget, the agent console, the JSON API).

Usage: python -m bot.serve MODEL   (make run trains the model first). Ctrl-C stops every process.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ACTIONS_PORT = int(os.environ.get("ACTIONS_PORT", "5055"))
RASA_PORT = int(os.environ.get("RASA_PORT", "5005"))
WEB_PORT = int(os.environ.get("WEB_PORT", "8080"))
STARTUP_SECONDS = 180


def _wait_for(url: str, process: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[2:5]} exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {STARTUP_SECONDS} s")


def start(model: Path, actions_port: int = ACTIONS_PORT, rasa_port: int = RASA_PORT,
          endpoints: Path = ROOT / "endpoints.yml", web_port: int | None = None) -> list[subprocess.Popen]:
    """Start the action server, the Rasa server and (with a `web_port`) the web server; return when all answer."""
    (ROOT / "build").mkdir(exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    actions = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(actions_port)], cwd=ROOT, env=env)
    rasa = subprocess.Popen(
        [sys.executable, "-m", "rasa", "run", "--model", str(model), "--port", str(rasa_port), "--enable-api",
         "--cors", "*", "--credentials", "credentials.yml", "--endpoints", str(endpoints)], cwd=ROOT, env=env)
    web = subprocess.Popen(
        [sys.executable, "-m", "bot.web.server"], cwd=ROOT,
        env=dict(env, WEB_PORT=str(web_port), RASA_URL=f"http://localhost:{rasa_port}")) if web_port else None
    processes = [actions, rasa] + ([web] if web else [])
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        _wait_for(f"http://localhost:{actions_port}/health", actions, deadline)
        _wait_for(f"http://localhost:{rasa_port}/status", rasa, deadline)
        if web:
            _wait_for(f"http://localhost:{web_port}/api/regions", web, deadline)
    except Exception:
        stop(processes)
        raise
    return processes


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def main(argv: list[str]) -> int:
    processes = start(Path(argv[0]), web_port=WEB_PORT)
    print(f"""
医保办事助手 is running:
  REST channel   POST http://localhost:{RASA_PORT}/webhooks/rest/webhook  {{"sender": "u1", "message": "耒阳 异地安置备案要什么材料"}}
  Rasa HTTP API  http://localhost:{RASA_PORT}/status
  action server  http://localhost:{ACTIONS_PORT}/webhook
  help widget    http://localhost:{WEB_PORT}/            (demo page; embed with <script src="…/widget.js">)
  agent console  http://localhost:{WEB_PORT}/agent       (JSON API under http://localhost:{WEB_PORT}/api/)
Press Ctrl-C to stop.""", flush=True)
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stopping and all(process.poll() is None for process in processes):
        time.sleep(0.5)
    stop(processes)
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
