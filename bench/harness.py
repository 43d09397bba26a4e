"""Shared pieces of the benchmarks: free ports, servers with a private tracker store, process memory and CPU,
the machine description. Standard library only (no psutil): /proc is read directly (Linux).
"""
from __future__ import annotations

import os
import platform
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot import serve

ROOT = Path(__file__).resolve().parents[1]
RESERVED_PORTS = {5005, 5055, 8080}  # what `make run` and other people's servers use


def free_port() -> int:
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


def write_endpoints(folder: Path, actions_port: int, tracker_store: str | None = None) -> Path:
    """endpoints.yml for the bench: our action server and a fresh SQLite tracker store in `folder`."""
    endpoints = folder / "endpoints.yml"
    store = tracker_store if tracker_store is not None else (
        f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{folder / "trackers.db"}"\n')
    endpoints.write_text(f'action_endpoint:\n  url: "http://localhost:{actions_port}/webhook"\n' + store)
    return endpoints


@dataclass
class Servers:
    """The three processes of `make run` (action server, Rasa server, web server) on free ports."""
    processes: list[subprocess.Popen]
    actions_port: int
    rasa_port: int
    web_port: int
    started: float  # time.monotonic() before the first process was started
    ready: float  # when all three answered their health URLs
    names: tuple[str, ...] = field(default=("action server", "Rasa server", "web server"))

    @property
    def rest_url(self) -> str:
        return f"http://localhost:{self.rasa_port}/webhooks/rest/webhook"

    def by_name(self) -> dict[str, subprocess.Popen]:
        return dict(zip(self.names, self.processes))

    def stop(self) -> None:
        serve.stop(self.processes)


def start_servers(model: Path, folder: Path, tracker_store: str | None = None) -> Servers:
    actions_port, rasa_port, web_port = free_port(), free_port(), free_port()
    endpoints = write_endpoints(folder, actions_port, tracker_store)
    started = time.monotonic()
    processes = serve.start(model, actions_port, rasa_port, endpoints, web_port=web_port)
    return Servers(processes, actions_port, rasa_port, web_port, started, time.monotonic())


def _tree(pid: int) -> list[int]:
    """The pid and its descendants (children listed in /proc/<pid>/task/*/children)."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo.extend(int(child) for child in (task / "children").read_text().split())
            except OSError:
                pass
    return pids


def rss_mib(pid: int) -> float:
    """Resident memory (VmRSS) of a process and its descendants, in MiB."""
    total = 0
    for member in _tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in _tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError):
            pass
    return total / ticks


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used since boot (from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    busy = sum(values) - values[3] - values[4]  # minus idle, iowait
    return busy / os.sysconf("SC_CLK_TCK")


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    meminfo = Path("/proc/meminfo").read_text().split()
    ram_gib = int(meminfo[meminfo.index("MemTotal:") + 1]) / 1024 / 1024
    return {"host": platform.node(), "cores": os.cpu_count(), "cpu": model, "ram_gib": round(ram_gib, 1),
            "python": platform.python_version(), "os": f"{platform.system()} {platform.release()}",
            "load_average_at_start": Path("/proc/loadavg").read_text().split()[:3]}
