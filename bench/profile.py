"""Where a message's time goes: py-spy samples the Rasa server and the action server while a closed-loop load
runs, and each sample is put in one part of the message's path (NLU pipeline, policies, tracker store, the
action call, the action's own work, HTTP …). The CPU time of each process per message (from /proc) is divided
by the share of its samples, so every part is given in milliseconds of CPU per message.

It starts the assistant as `make bench` does (the tracker store of endpoints.yml in a temporary folder) and
profiles two loads: 10 users in conversations of 10 messages, and one user in conversations of 60 messages
(messages 51–60 sampled alone, to show what grows with the conversation). Needs py-spy (`make profile` installs
the pinned version of bench/requirements-profile.txt into .venv).

Usage: python bench/profile.py MODEL [--rasa-port 7005] [--actions-port 7055] [--web-port 7080] [--py-spy PATH]
Output: the table on stdout, results/bench/profile.md, and the raw samples in results/bench/profile-*.txt.
"""
from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare  # noqa: E402
import harness  # noqa: E402

RESULTS = harness.ROOT / "results" / "bench"
RATE = 250  # samples a second
LONG_CONVERSATIONS = 4

# The parts of the Rasa server's work, first match wins; each is a list of alternatives, an alternative a set of
# substrings that must all be in the sample's stack (the frames joined, root first).
RASA_PARTS: list[tuple[str, list[tuple[str, ...]]]] = [
    ("NLU pipeline (tokenizer, featurizers, DIET, our components)", [("parse_message",)]),
    ("tracker to the action server (serialising the tracker and domain)", [("_action_call_format",)]),
    ("checking the action server's answer (events schema)", [("_validate_action_result",), ("jsonschema",)]),
    ("action call: HTTP client and the answer's events", [("RemoteAction",), ("action.py", "run (")]),
    ("tracker store: load (SQL, JSON, events, replay)", [("tracker_store.py", "retrieve"),
                                                          ("tracker_store.py", "get_or_create")]),
    ("tracker store: save (SQL insert, commit)", [("tracker_store.py", "save")]),
    ("policies (RulePolicy, MemoizationPolicy, ensemble)", [("rasa/core/policies",), ("predict_next",),
                                                             ("generate_all_prior_trackers",)]),
    ("dialogue loop: applying events, bot messages, session", [("rasa/core/processor.py",)]),
    ("HTTP server and REST channel (Sanic, our channel)", [("sanic",), ("bot/channels",)]),
]
ACTION_PARTS: list[tuple[str, list[tuple[str, ...]]]] = [
    ("the action's own work (understanding, knowledge base, composing)", [(" (actions/",), (" (knowledge/",)]),
    ("reading the request: JSON and rasa_sdk's Tracker", [("json",), ("rasa_sdk/interfaces.py",)]),
    ("rasa_sdk and HTTP server (Sanic)", [("rasa_sdk",), ("sanic",)]),
]
OTHER = "other (event loop, logging, garbage collection …)"
# A sample whose innermost Python frame is Sanic's server loop is the event loop waiting (uvloop, in C): idle.
IDLE = "serve (sanic/server/runners.py"


@dataclass
class Profiled:
    name: str
    samples: Counter  # part → samples
    cpu_ms_per_message: float


def part_of(stack: str, parts: list[tuple[str, list[tuple[str, ...]]]]) -> str:
    for name, alternatives in parts:
        if any(all(word in stack for word in words) for words in alternatives):
            return name
    return OTHER


def read_samples(path: Path, parts: list[tuple[str, list[tuple[str, ...]]]]) -> Counter:
    """py-spy's raw output (one line per stack: frames joined by ';', then the count) → samples per part; the
    event loop's idle samples are left out."""
    counts: Counter = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit() and not stack.rsplit(";", 1)[-1].startswith(IDLE):
            counts[part_of(stack, parts)] += int(count)
    return counts


def record(py_spy: str, pid: int, output: Path) -> subprocess.Popen:
    """py-spy sampling `pid` (all its threads, only while they run) until stopped."""
    with open(output.with_suffix(".log"), "wb") as log:
        return subprocess.Popen([py_spy, "record", "--pid", str(pid), "--rate", str(RATE), "--format", "raw",
                                 "--output", str(output), "--nonblocking"], stdout=log, stderr=subprocess.STDOUT)


def stop_recording(recorder: subprocess.Popen) -> None:
    recorder.send_signal(signal.SIGINT)
    recorder.wait(timeout=60)


def profile(py_spy: str, name: str, pids: dict[str, int], run, messages: int) -> dict[str, Profiled]:
    """Profile both processes while `run()` sends `messages` messages."""
    outputs = {process: RESULTS / f"profile-{name}-{process}.txt" for process in pids}
    cpu = {process: harness.cpu_seconds(pid) for process, pid in pids.items()}
    recorders = [record(py_spy, pid, outputs[process]) for process, pid in pids.items()]
    time.sleep(1)  # py-spy attaches
    run()
    for recorder in recorders:
        stop_recording(recorder)
    results = {}
    for process, pid in pids.items():
        used = harness.cpu_seconds(pid) - cpu[process]
        parts = RASA_PARTS if process == "rasa" else ACTION_PARTS
        results[process] = Profiled(process, read_samples(outputs[process], parts), used * 1000 / messages)
    return results


def table(title: str, profiled: dict[str, Profiled]) -> str:
    lines = [f"**{title}**", "", "| process | part | share of its samples | CPU ms per message |",
             "| --- | --- | --- | --- |"]
    for process in profiled.values():
        total = sum(process.samples.values()) or 1
        label = "Rasa server" if process.name == "rasa" else "action server"
        for part, count in process.samples.most_common():
            lines.append(f"| {label} | {part} | {count / total:.0%} | {process.cpu_ms_per_message * count / total:.1f} |")
        lines.append(f"| {label} | **all** | 100% | **{process.cpu_ms_per_message:.1f}** |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = harness.server_arguments(__doc__)
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"))
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="profile-") as scratch:
        servers = harness.start_servers(args.model.resolve(), Path(scratch), args.actions_port, args.rasa_port,
                                        args.web_port, output=Path(scratch) / "servers.log")
        try:
            url = servers.rest_url
            pids = {"rasa": servers.processes[1].pid, "actions": servers.processes[0].pid}
            compare.warm_up(compare.assistant(servers))
            short = profile(args.py_spy, "10-users", pids,
                            lambda: asyncio.run(compare.load(url, 10, 10, 4)), 400)
            senders = [f"profile-long-{uuid.uuid4().hex}" for _ in range(LONG_CONVERSATIONS)]
            asyncio.run(say(url, senders, range(50)))
            long = profile(args.py_spy, "messages-51-60", pids, lambda: asyncio.run(say(url, senders, range(50, 60))),
                           10 * len(senders))
        finally:
            servers.stop()
    text = (table("10 users, conversations of 10 messages (400 messages)", short) + "\n"
            + table(f"one user, messages 51–60 of {LONG_CONVERSATIONS} conversations of 60 messages", long))
    (RESULTS / "profile.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


async def say(url: str, senders: list[str], positions: range) -> None:
    """Each sender's messages at `positions`, one sender after the other."""
    async with aiohttp.ClientSession(timeout=compare.TIMEOUT) as session:
        for sender in senders:
            await compare.conversation(session, url, sender, positions, [])


if __name__ == "__main__":
    sys.exit(main())
