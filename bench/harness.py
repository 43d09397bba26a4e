"""Shared pieces of the benchmarks: their ports, servers with a private tracker store, process memory and CPU,
the machine description. Standard library only (no psutil): /proc is read directly (Linux).
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot import serve

ROOT = Path(__file__).resolve().parents[1]
# The bench's ports: others' servers use 5005/5055/8080 and 6005/6055/6080. The environment may choose others.
DEFAULT_PORTS = {"RASA_PORT": 7005, "ACTIONS_PORT": 7055, "WEB_PORT": 7080, "STOCK_PORT": 7006}


def port(variable: str) -> int:
    """The port named by an environment variable of DEFAULT_PORTS, else its default."""
    return int(os.environ.get(variable) or DEFAULT_PORTS[variable])


def server_arguments(description: str) -> argparse.ArgumentParser:
    """A command line with the model and the ports of the assistant's three servers (see `port`)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("--rasa-port", type=int, default=port("RASA_PORT"))
    parser.add_argument("--actions-port", type=int, default=port("ACTIONS_PORT"))
    parser.add_argument("--web-port", type=int, default=port("WEB_PORT"))
    return parser


def rest_url(rasa_port: int) -> str:
    return f"http://localhost:{rasa_port}/webhooks/rest/webhook"


@dataclass
class Servers:
    """The three processes of `make run` (action server, Rasa server, web server) on the bench's ports."""
    processes: list[subprocess.Popen]
    actions_port: int
    rasa_port: int
    web_port: int
    started: float  # time.monotonic() before the first process was started
    ready: float  # when all three answered their health URLs
    names: tuple[str, ...] = field(default=("action server", "Rasa server", "web server"))

    @property
    def rest_url(self) -> str:
        return rest_url(self.rasa_port)

    def by_name(self) -> dict[str, subprocess.Popen]:
        return dict(zip(self.names, self.processes))

    def stop(self) -> None:
        serve.stop(self.processes)


def start_servers(model: Path, folder: Path, actions_port: int, rasa_port: int, web_port: int,
                  output: Path | None = None) -> Servers:
    """The three processes of `make run` on the given ports, the tracker store's database in `folder`; with
    `output`, their logs go to that file."""
    endpoints = serve.endpoints_for(actions_port, tracker_db=folder / "trackers.db", copy=folder / "endpoints.yml")
    started = time.monotonic()
    processes = serve.start(model, actions_port, rasa_port, endpoints, web_port=web_port, output=output)
    return Servers(processes, actions_port, rasa_port, web_port, started, time.monotonic())


def process_tree(pid: int) -> list[int]:
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
    for member in process_tree(pid):
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
    for member in process_tree(pid):
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
