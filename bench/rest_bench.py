"""REST-channel benchmark with the real actions and knowledge base.

Measures one user's latency (p50/p99), long conversations (how the growing tracker costs), the latency at an
offered open-loop load (default 20 messages/s) and the closed-loop maximum throughput. Loops are bounded in count
and time; traffic goes to localhost only. `make bench` (bench/run_all.py) starts the servers on the bench's ports and
calls `measure`; run alone it measures servers that are already running:

Usage: python bench/rest_bench.py [--url URL] [--rate 20] [--seconds 30]
"""
from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

QUESTIONS = [
    "耒阳 异地安置备案要什么材料", "长沙 住院费用报销要多久", "株洲 生育津贴 多久能发", "衡阳 特门在哪里办",
    "武汉 单位参保登记要几天", "郴州 慢特病 网上能办吗", "望城区 门诊费用报销 电话", "祁东 异地长期居住备案 电话多少",
    "长沙 个人账户 死亡销户要什么材料", "湘潭 公司注销医保要带什么", "宜章 生育津贴 咨询电话", "你好",
]
CONVERSATION = 10  # messages per conversation: a citizen's question, follow-ups and clarifications
LONG_CONVERSATION = 60  # one sender that keeps talking: messages 1-10 against 51-60
LONG_CONVERSATIONS = 3  # conversations of that length; the p50s pool their messages (30 samples each)


def ask(url: str, sender: str, message: str) -> float:
    """Send one message; return the milliseconds until the whole answer arrived."""
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def one_user(url: str, messages: int) -> list[float]:
    """One user at a time, in conversations of CONVERSATION messages."""
    latencies = []
    for index in range(messages):
        if index % CONVERSATION == 0:
            sender = uuid.uuid4().hex
        latencies.append(ask(url, sender, QUESTIONS[index % len(QUESTIONS)]))
    return latencies


def long_conversation(url: str, messages: int = LONG_CONVERSATION) -> list[float]:
    """One sender that never stops talking: how the growing tracker costs."""
    sender = uuid.uuid4().hex
    return [ask(url, sender, QUESTIONS[i % len(QUESTIONS)]) for i in range(messages)]


def open_loop(url: str, rate: float, seconds: float) -> tuple[list[float], int]:
    """Send `rate` messages per second from many users regardless of answers; return latencies and errors.

    A latency counts from the moment the message was due, not from when a worker thread got to send it, so a
    backlog on the client side is not hidden (no coordinated omission)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def send(index: int, due: float) -> None:
        nonlocal errors
        try:
            ask(url, f"load-{index % 300}", QUESTIONS[index % len(QUESTIONS)])
            latency = (time.perf_counter() - due) * 1000
            with lock:
                latencies.append(latency)
        except OSError:
            with lock:
                errors += 1

    with ThreadPoolExecutor(max_workers=128) as pool:
        started = time.perf_counter()
        for index in range(int(rate * seconds)):
            due = started + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, index, due)
    return latencies, errors


def closed_loop(url: str, users: int, seconds: float) -> tuple[float, list[float]]:
    """Messages per second with `users` senders each waiting for its answer before the next; and latencies."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def user(number: int) -> None:
        index = 0
        while time.perf_counter() < deadline:
            latency = ask(url, f"closed-{number}-{index // CONVERSATION}", QUESTIONS[index % len(QUESTIONS)])
            index += 1
            with lock:
                latencies.append(latency)

    started = time.perf_counter()
    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.perf_counter() - started), latencies


def _summary(samples: list[float]) -> dict:
    return {"p50_ms": round(statistics.median(samples), 1), "p99_ms": round(percentile(samples, 0.99), 1),
            "n": len(samples)}


def measure(url: str, rate: float = 20.0, seconds: float = 30.0, log=print) -> dict:
    """Every REST figure, as a dict; `log` gets one line per figure as it is measured."""
    results: dict = {}
    one_user(url, 20)  # warm up: the first calls of each code path are slower
    single = one_user(url, 200)
    results["one_user"] = dict(_summary(single), conversation=CONVERSATION)
    log(f"one user: p50 {results['one_user']['p50_ms']:.0f} ms, p99 {results['one_user']['p99_ms']:.0f} ms "
        f"(n=200, conversations of {CONVERSATION})")
    runs = [long_conversation(url) for _ in range(LONG_CONVERSATIONS)]
    first = [latency for run in runs for latency in run[:10]]
    last = [latency for run in runs for latency in run[-10:]]
    results["long_conversation"] = {
        "messages": LONG_CONVERSATION, "conversations": LONG_CONVERSATIONS,
        "first_10": _summary(first), "last_10": _summary(last),
        "per_message_p50_ms": [round(statistics.median(run[i] for run in runs), 1)
                               for i in range(LONG_CONVERSATION)]}
    log(f"{LONG_CONVERSATIONS} conversations of {LONG_CONVERSATION} messages: messages 1-10 p50 "
        f"{statistics.median(first):.0f} ms, messages 51-60 p50 {statistics.median(last):.0f} ms, "
        f"p99 {percentile(last, 0.99):.0f} ms")
    loaded, errors = open_loop(url, rate, seconds)
    results["open_loop"] = dict(_summary(loaded) if loaded else {"p50_ms": None, "p99_ms": None, "n": 0},
                                rate=rate, seconds=seconds, errors=errors)
    log(f"open loop {rate:g} msg/s for {seconds:g} s: p50 {results['open_loop']['p50_ms']} ms, "
        f"p99 {results['open_loop']['p99_ms']} ms, errors {errors}")
    results["closed_loop"] = []
    for users in (4, 8, 16):
        throughput, latencies = closed_loop(url, users, 15)
        results["closed_loop"].append(dict(_summary(latencies), users=users, messages_per_s=round(throughput, 1)))
        log(f"closed loop, {users} users: {throughput:.1f} msg/s (p50 {statistics.median(latencies):.0f} ms)")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://localhost:5005/webhooks/rest/webhook")
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    print(json.dumps(measure(args.url, args.rate, args.seconds), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
