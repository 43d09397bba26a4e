"""Serve everything: the action server (5055, on 127.0.0.1 only), the Rasa server (5005: the REST and WeChat
channels, and the HTTP API behind a token) and the web server (8080: the demo page with the help widget, the agent
console, the JSON API).

Usage: python -m bot.serve MODEL   (make run trains the model first). Ctrl-C stops every process.
The HTTP API's token is RASA_AUTH_TOKEN; when it is not set, a random one is made and printed at start-up.
The operations console (/ops) reads the tracker store of the endpoints file; its senders' salt is OPS_SENDER_SALT
(a random one for this run when it is not set).
CORS on the Rasa server is allowed for WIDGET_ORIGINS (default: the web server's own origin).
"""
from __future__ import annotations

import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

from actions.config import startup_problem
from bot.ops.store import tracker_store_url
from knowledge.bot_texts import say

ROOT = Path(__file__).resolve().parents[1]
ACTIONS_PORT = int(os.environ.get("ACTIONS_PORT", "5055"))
# The action server answers only the Rasa server: it listens on loopback unless told otherwise (containers).
ACTIONS_HOST = os.environ.get("ACTIONS_HOST", "127.0.0.1")
RASA_PORT = int(os.environ.get("RASA_PORT", "5005"))
WEB_PORT = int(os.environ.get("WEB_PORT", "8080"))
STARTUP_SECONDS = int(os.environ.get("STARTUP_SECONDS", "300"))
# Sanic (the Rasa server and the action server) closes a connection whose request it has not read within
# KEEP_ALIVE_TIMEOUT (5 s by default). Under load a busy event loop reads a new connection's request late, and the
# caller gets "Can not write request body" (Rasa → actions) or a 502 (nginx → Rasa): seen with 20 conversations at
# once on 2 cores. A longer timeout, above nginx's upstream keepalive_timeout (30 s), removes it.
SANIC_KEEP_ALIVE_TIMEOUT = os.environ.get("SANIC_KEEP_ALIVE_TIMEOUT", "75")
TOKEN_VARIABLE = "RASA_AUTH_TOKEN"
SALT_VARIABLE = "OPS_SENDER_SALT"


class StartupError(RuntimeError):
    """The servers cannot start (the knowledge base is unusable, a server exited or did not answer)."""


# Ports for the tests', the benchmarks' and the cluster's servers come from below the kernel's ephemeral range: a
# port from inside it (bind to port 0) can be taken as the source port of any outgoing connection during the ~20 s
# Rasa loads its model before it binds, and Sanic then logs "Unable to start server" and exits with status 0.
OWN_PORTS = range(20000, 32768)
_handed_out: set[int] = set()


def ephemeral_ports() -> range:
    """The kernel's range for source ports of outgoing connections (Linux's default when it cannot be read)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return range(int(low), int(high) + 1)
    except (OSError, ValueError):
        return range(32768, 61000)


def free_port() -> int:
    """A TCP port free on every interface right now, outside the ephemeral range (where the kernel's range leaves
    any of OWN_PORTS) and not handed out before by this process, so nothing but its server binds it."""
    ephemeral = ephemeral_ports()
    unused = [port for port in OWN_PORTS if port not in _handed_out]
    candidates = [port for port in unused if port not in ephemeral] or unused
    for port in random.sample(candidates, min(len(candidates), 200)):
        with socket.socket() as probe:
            try:
                probe.bind(("", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise StartupError(f"no free TCP port in {OWN_PORTS}")


def wait_for(url: str, process: subprocess.Popen, deadline: float) -> None:
    """Return when `url` answers; StartupError if the process exits first or the deadline (monotonic) passes."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartupError(f"{process.args[2:5]} exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise StartupError(f"{url} did not answer in time")


def _env(extra: Mapping[str, str] | None) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT), SANIC_KEEP_ALIVE_TIMEOUT=SANIC_KEEP_ALIVE_TIMEOUT,
                **(extra or {}))


def with_token(env: Mapping[str, str] | None) -> dict[str, str]:
    """`env` with RASA_AUTH_TOKEN and OPS_SENDER_SALT: its own, else the environment's, else new random ones."""
    merged = dict(env or {})
    for variable in (TOKEN_VARIABLE, SALT_VARIABLE):
        if not (merged.get(variable) or os.environ.get(variable)):
            merged[variable] = secrets.token_urlsafe(24)
    return merged


def widget_origins(env: Mapping[str, str] | None, web_port: int) -> list[str]:
    """The origins allowed to call the Rasa server from a browser: WIDGET_ORIGINS (spaces or commas between
    them), else the web server's own origin."""
    configured = (env or {}).get("WIDGET_ORIGINS") or os.environ.get("WIDGET_ORIGINS", "")
    origins = [origin for origin in re.split(r"[\s,]+", configured) if origin]
    return origins or [f"http://localhost:{web_port}", f"http://127.0.0.1:{web_port}"]


def _popen(command: list[str], env: Mapping[str, str] | None, output: Path | None) -> subprocess.Popen:
    """A server process; with `output`, its stdout and stderr are appended to that file."""
    if output is None:
        return subprocess.Popen(command, cwd=ROOT, env=_env(env))
    with open(output, "ab") as sink:
        return subprocess.Popen(command, cwd=ROOT, env=_env(env), stdout=sink, stderr=subprocess.STDOUT)


def _actions_command(port: int) -> list[str]:
    """The action server (actions/__main__.py: the knowledge base checked, then rasa_sdk)."""
    return [sys.executable, "-m", "actions", "--port", str(port)]


def _actions_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """rasa_sdk listens on SANIC_HOST (its default is every interface)."""
    return {"SANIC_HOST": ACTIONS_HOST, **(env or {})}


def _rasa_command(model: Path, port: int, endpoints: Path, origins: list[str]) -> list[str]:
    """`rasa run` through bot.rasa_run, which adds the API token from the environment."""
    return [sys.executable, "-m", "bot.rasa_run", "--model", str(model), "--port", str(port), "--enable-api",
            "--cors", *origins, "--credentials", "credentials.yml", "--endpoints", str(endpoints)]


def start_actions(port: int = ACTIONS_PORT, env: Mapping[str, str] | None = None,
                  output: Path | None = None) -> subprocess.Popen:
    """Start the action server; return once /health answers."""
    process = _popen(_actions_command(port), _actions_env(env), output)
    _started(process, f"http://localhost:{port}/health")
    return process


def start_rasa(model: Path, port: int = RASA_PORT, endpoints: Path = ROOT / "endpoints.yml",
               env: Mapping[str, str] | None = None, output: Path | None = None) -> subprocess.Popen:
    """Start the Rasa server (channels of credentials.yml, HTTP API with the token of `env` or the environment,
    a new one if neither has it); return once it answers (it does once the model is loaded)."""
    env = with_token(env)
    process = _popen(_rasa_command(model, port, endpoints, widget_origins(env, WEB_PORT)), env, output)
    _started(process, f"http://localhost:{port}/version")
    return process


def _started(process: subprocess.Popen, url: str) -> None:
    try:
        wait_for(url, process, time.monotonic() + STARTUP_SECONDS)
    except Exception:
        stop([process])
        raise


def endpoints_for(actions_port: int, endpoints: Path = ROOT / "endpoints.yml", tracker_db: Path | None = None,
                  copy: Path | None = None) -> Path:
    """`endpoints` with the action endpoint on `actions_port` and, for the SQLite tracker store, the database file
    `tracker_db`: the file itself when that changes nothing, else a copy written to `copy` (by default
    build/endpoints-actions-PORT.yml: ACTIONS_PORT=6055 with endpoints.yml's 5055; the tests and the benchmarks
    give their own folder's file)."""
    text = endpoints.read_text(encoding="utf-8")
    config = yaml.safe_load(text) or {}
    action = config.get("action_endpoint") or {}
    if action.get("url"):
        parts = urlsplit(action["url"])
        action["url"] = urlunsplit(parts._replace(netloc=f"{parts.hostname}:{actions_port}"))
    store = config.get("tracker_store") or {}
    if tracker_db is not None and store.get("dialect") == "sqlite":
        store["db"] = str(tracker_db)
    if config == (yaml.safe_load(text) or {}):
        return endpoints
    copy = copy or ROOT / "build" / f"endpoints-actions-{actions_port}.yml"
    copy.write_text("# Generated by bot/serve.py from " + endpoints.name + "; do not edit.\n"
                    + yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return copy


def start(model: Path, actions_port: int = ACTIONS_PORT, rasa_port: int = RASA_PORT,
          endpoints: Path = ROOT / "endpoints.yml", web_port: int | None = None,
          env: Mapping[str, str] | None = None, output: Path | None = None) -> list[subprocess.Popen]:
    """Start the action server, the Rasa server and (with a `web_port`) the web server; return when all answer.
    `env` is added to their environment (RASA_AUTH_TOKEN: the API's token; a new one if neither `env` nor the
    environment has it); with `output`, every server writes to that file.
    Refuses (StartupError, before starting anything) when the knowledge base is unusable."""
    problem = startup_problem()
    if problem:
        raise StartupError(problem)
    (ROOT / "build").mkdir(exist_ok=True)
    endpoints = endpoints_for(actions_port, endpoints)
    env = with_token(env)
    actions = _popen(_actions_command(actions_port), _actions_env(env), output)
    rasa = _popen(_rasa_command(model, rasa_port, endpoints, widget_origins(env, web_port or WEB_PORT)), env,
                  output)
    web = _popen([sys.executable, "-m", "bot.web.server"],
                 {"TRACKER_DB": tracker_store_url(endpoints), **env, "WEB_PORT": str(web_port),
                  "RASA_URL": f"http://localhost:{rasa_port}"}, output) if web_port else None
    processes = [actions, rasa] + ([web] if web else [])
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        wait_for(f"http://localhost:{actions_port}/health", actions, deadline)
        wait_for(f"http://localhost:{rasa_port}/version", rasa, deadline)
        if web:
            wait_for(f"http://localhost:{web_port}/api/regions", web, deadline)
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
    if len(argv) != 1:
        print("usage: python -m bot.serve MODEL", file=sys.stderr)
        return 2
    env = with_token(None)
    try:
        processes = start(Path(argv[0]), web_port=WEB_PORT, env=env)
    except StartupError as error:
        print(error, file=sys.stderr)
        return 1
    token = env.get(TOKEN_VARIABLE)
    token_note = (f"generated for this run: {token}\n                 (set RASA_AUTH_TOKEN to choose it)" if token
                  else "the token in RASA_AUTH_TOKEN")
    name, example = say("serve.assistant_name"), say("channels.example_question")
    print(f"""
{name} is running:
  REST channel   POST http://localhost:{RASA_PORT}/webhooks/rest/webhook  {{"sender": "u1", "message": "{example}"}}
  WeChat         GET/POST http://localhost:{RASA_PORT}/webhooks/wechat/webhook  (WECHAT_TOKEN …)
  Rasa HTTP API  http://localhost:{RASA_PORT}/status?token=…  — {token_note}
  action server  http://127.0.0.1:{ACTIONS_PORT}/webhook   (loopback only)
  help widget    http://localhost:{WEB_PORT}/            (demo page; embed with <script src="…/widget.js">)
  agent console  http://localhost:{WEB_PORT}/agent       (JSON API under http://localhost:{WEB_PORT}/api/)
  operations     http://localhost:{WEB_PORT}/ops         (login; first user: python -m bot.ops user add NAME --role admin)
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
