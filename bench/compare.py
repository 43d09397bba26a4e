"""The assistant against a stock Rasa bot of the same version (bench/stock_bot.py), side by side in one run.

The same closed-loop load goes to both: 1, 10 and 50 concurrent users, each user in conversations of 10 and of 60
messages (a new sender for each conversation, the questions of rest_bench.QUESTIONS in turn), every user waiting
for its answer before sending the next message. Each load runs in ROUNDS rounds, the stock bot then the assistant,
after both were warmed up. For each load: messages per second (the median round), p50 and p99 latency, and the
servers' CPU time per message; for conversations of 60 messages, the p50 of messages 1–10 and of messages 51–60.
The ratios are the assistant's figure over the stock bot's (throughput: the median of the rounds' ratios, ≥ 1.0 is
as fast; latency: ≤ 1.2 is the bar), and for long conversations messages 51–60 over messages 1–10 of the same bot.

Run alone it starts both bots (the assistant as `make run` serves it: action server and Rasa server with the
tracker store of endpoints.yml, its database in a temporary folder), measures, prints the table and stops them:

Usage: python bench/compare.py MODEL [--rasa-port 7005] [--actions-port 7055] [--web-port 7080] [--stock-port 7006]
       (the ports default to RASA_PORT, ACTIONS_PORT, WEB_PORT and STOCK_PORT, else 7005, 7055, 7080 and 7006)
"""
from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot import serve

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import rest_bench  # noqa: E402
import stock_bot  # noqa: E402

USERS = (1, 10, 50)
# Conversations per user for each (users, conversation length): about 200–3000 messages a load.
CONVERSATIONS = {(1, 10): 20, (10, 10): 6, (50, 10): 2, (1, 60): 4, (10, 60): 1, (50, 60): 1}
LENGTHS = (10, 60)
ROUNDS = 3  # each load runs this many times against each bot, the two bots taking turns
TIMEOUT = aiohttp.ClientTimeout(total=60)


@dataclass
class Bot:
    name: str
    url: str
    pids: list[int]


def percentile(samples: list[float], fraction: float) -> float:
    return round(rest_bench.percentile(samples, fraction), 1)


def question(position: int) -> str:
    """The message at `position` (from 0) of every conversation."""
    return rest_bench.QUESTIONS[position % len(rest_bench.QUESTIONS)]


async def conversation(session: aiohttp.ClientSession, url: str, sender: str, positions: range,
                       samples: list[tuple[int, float]]) -> None:
    """The messages at `positions` of `sender`'s conversation, each after the answer to the one before."""
    for position in positions:
        body = {"sender": sender, "message": question(position)}
        started = time.perf_counter()
        async with session.post(url, json=body) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"{url} answered {response.status}")
        samples.append((position, (time.perf_counter() - started) * 1000))


async def load(url: str, users: int, length: int, conversations: int) -> tuple[float, list[tuple[int, float]]]:
    """Every user holds `conversations` conversations of `length` messages; returns elapsed seconds and
    (position in the conversation, latency in ms) of every message."""
    samples: list[tuple[int, float]] = []
    run = uuid.uuid4().hex[:8]

    async def user(number: int) -> None:
        for index in range(conversations):
            await conversation(session, url, f"compare-{run}-{number}-{index}", range(length), samples)

    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as session:
        started = time.perf_counter()
        await asyncio.gather(*(user(number) for number in range(users)))
        return time.perf_counter() - started, samples


def run_load(bot: Bot, users: int, length: int) -> dict:
    """One round of a load against one bot: elapsed seconds, (position, latency ms) samples, CPU seconds."""
    cpu = sum(map(harness.cpu_seconds, bot.pids))
    elapsed, samples = asyncio.run(load(bot.url, users, length, CONVERSATIONS[(users, length)]))
    return {"seconds": elapsed, "samples": samples, "cpu": sum(map(harness.cpu_seconds, bot.pids)) - cpu}


def figures(rounds: list[dict], length: int) -> dict:
    """A bot's figures over its rounds of a load: the median round's messages per second, latency percentiles and
    CPU per message over the messages of all rounds."""
    samples = [sample for run in rounds for sample in run["samples"]]
    latencies = [latency for _, latency in samples]
    rates = [len(run["samples"]) / run["seconds"] for run in rounds]
    result = {"messages": len(samples), "rounds_messages_per_s": [round(rate, 1) for rate in rates],
              "messages_per_s": round(statistics.median(rates), 1),
              "p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99),
              "cpu_ms_per_message": round(sum(run["cpu"] for run in rounds) * 1000 / len(samples), 1)}
    if length >= 60:
        result["first_10_p50_ms"] = percentile([ms for position, ms in samples if position < 10], 0.5)
        result["last_10_p50_ms"] = percentile([ms for position, ms in samples if position >= length - 10], 0.5)
        result["long_ratio"] = round(result["last_10_p50_ms"] / result["first_10_p50_ms"], 2)
    return result


def assistant(servers: harness.Servers) -> Bot:
    """The assistant's Rasa server and action server (the web server takes no part in the REST channel)."""
    return Bot("ours", servers.rest_url, [servers.processes[0].pid, servers.processes[1].pid])


def warm_up(bot: Bot) -> None:
    """Every question answered a few times, by several users at once, before anything is measured."""
    asyncio.run(load(bot.url, 10, 10, 2))


def measure(stock: Bot, ours: Bot, log: Callable[[str], None] = print) -> dict:
    """Every load against both bots, in ROUNDS rounds of the stock bot then the assistant; the figures and the
    ratios as a dict. The throughput ratio is the median of the rounds' ratios: each compares two runs a few seconds
    apart, so a drift of the machine's speed over the minutes of the benchmark cancels out."""
    warm_up(stock)
    warm_up(ours)
    loads = []
    for length in LENGTHS:
        for users in USERS:
            rounds: dict[str, list[dict]] = {stock.name: [], ours.name: []}
            for _ in range(ROUNDS):
                for bot in (stock, ours):
                    rounds[bot.name].append(run_load(bot, users, length))
            entry = {"users": users, "length": length}
            for bot in (stock, ours):
                entry[bot.name] = figures(rounds[bot.name], length)
                log(f"{bot.name}, {users} users, conversations of {length}: {entry[bot.name]}")
            ratios = [len(mine["samples"]) / mine["seconds"] / (len(theirs["samples"]) / theirs["seconds"])
                      for mine, theirs in zip(rounds[ours.name], rounds[stock.name])]
            entry["round_throughput_ratios"] = [round(ratio, 2) for ratio in ratios]
            entry["throughput_ratio"] = round(statistics.median(ratios), 2)
            entry["p50_ratio"] = round(entry["ours"]["p50_ms"] / entry["stock"]["p50_ms"], 2)
            loads.append(entry)
    return {"rounds": ROUNDS, "loads": loads}


def verdicts(results: dict) -> list[tuple[str, str, str, str]]:
    """(bar, measured, target, verdict) for the acceptance bars of issue 13."""
    by_load = {(entry["users"], entry["length"]): entry for entry in results["loads"]}
    rows = []
    for users in (10, 50):
        ratio = min(by_load[(users, length)]["throughput_ratio"] for length in LENGTHS)
        rows.append((f"{users} users: throughput, assistant / stock (lower of both lengths)", f"{ratio:.2f}×",
                     "≥ 1.0× (≥ 0.8× minimum)", "PASS" if ratio >= 1.0 else ("MINIMUM" if ratio >= 0.8 else "FAIL")))
    p50 = by_load[(1, 10)]["p50_ratio"]
    rows.append(("one user: p50, assistant / stock (conversations of 10)", f"{p50:.2f}×", "≤ 1.2×",
                 "PASS" if p50 <= 1.2 else "FAIL"))
    long = by_load[(1, 60)]["ours"]
    rows.append(("one user, conversations of 60: messages 51–60 / 1–10, p50 (assistant)",
                 f"{long['long_ratio']:.2f}× ({long['last_10_p50_ms']:.0f} vs {long['first_10_p50_ms']:.0f} ms)",
                 "≤ 1.2×", "PASS" if long["long_ratio"] <= 1.2 else "FAIL"))
    return rows


def table(results: dict) -> str:
    lines = ["| users | messages a conversation | stock msg/s | assistant msg/s | throughput ratio (rounds) "
             "| stock p50 / p99 ms | assistant p50 / p99 ms | p50 ratio | CPU ms/message stock / assistant | messages 51–60 / 1–10 "
             "stock / assistant |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for entry in results["loads"]:
        stock, ours = entry["stock"], entry["ours"]
        long = f"{stock['long_ratio']:.2f}× / {ours['long_ratio']:.2f}×" if "long_ratio" in ours else "—"
        rounds = " / ".join(f"{ratio:.2f}" for ratio in entry["round_throughput_ratios"])
        lines.append(f"| {entry['users']} | {entry['length']} | {stock['messages_per_s']} | {ours['messages_per_s']} "
                     f"| {entry['throughput_ratio']:.2f}× ({rounds}) | {stock['p50_ms']:.0f} / {stock['p99_ms']:.0f} "
                     f"| {ours['p50_ms']:.0f} / {ours['p99_ms']:.0f} | {entry['p50_ratio']:.2f}× "
                     f"| {stock['cpu_ms_per_message']:.0f} / {ours['cpu_ms_per_message']:.0f} | {long} |")
    lines += ["", "| bar (issue 13) | measured | target | verdict |", "| --- | --- | --- | --- |"]
    lines += [f"| {bar} | {measured} | {target} | {ok} |" for bar, measured, target, ok in verdicts(results)]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = harness.server_arguments(__doc__)
    parser.add_argument("--stock-port", type=int, default=harness.port("STOCK_PORT"))
    args = parser.parse_args()
    stock_model = stock_bot.model()
    with tempfile.TemporaryDirectory(prefix="compare-") as scratch:
        log = Path(scratch) / "servers.log"
        servers = harness.start_servers(args.model.resolve(), Path(scratch), args.actions_port, args.rasa_port,
                                        args.web_port, output=log)
        try:
            stock = stock_bot.start(stock_model, args.stock_port, output=log)
            try:
                results = measure(Bot("stock", harness.rest_url(args.stock_port), [stock.pid]), assistant(servers))
            finally:
                serve.stop([stock])
        finally:
            servers.stop()
    print(json.dumps(results, ensure_ascii=False))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
