"""REST-channel benchmark with the real actions and knowledge base (run against `make run`).

Measures one user's latency (p50/p99), the p99 at an offered open-loop load (default 20 messages/s), and the
closed-loop maximum throughput. Loops are bounded in count and time; traffic goes to localhost only.

Usage: python bench/rest_bench.py [--url URL] [--rate 20] [--seconds 30]
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date

QUESTIONS = [
    "耒阳 异地安置备案要什么材料", "长沙 住院费用报销要多久", "株洲 生育津贴 多久能发", "衡阳 特门在哪里办",
    "武汉 单位参保登记要几天", "郴州 慢特病 网上能办吗", "望城区 门诊费用报销 电话", "祁东 异地长期居住备案 电话多少",
    "长沙 个人账户 死亡销户要什么材料", "湘潭 公司注销医保要带什么", "宜章 生育津贴 咨询电话", "你好",
]


def ask(url: str, sender: str, message: str) -> float:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


CONVERSATION = 10  # messages per conversation: a citizen's question, follow-ups and clarifications


def one_user(url: str, messages: int) -> list[float]:
    """One user at a time, in conversations of CONVERSATION messages."""
    latencies = []
    for index in range(messages):
        if index % CONVERSATION == 0:
            sender = uuid.uuid4().hex
        latencies.append(ask(url, sender, QUESTIONS[index % len(QUESTIONS)]))
    return latencies


def long_conversation(url: str, messages: int) -> list[float]:
    """One sender that never stops talking: how the growing tracker costs."""
    sender = uuid.uuid4().hex
    return [ask(url, sender, QUESTIONS[i % len(QUESTIONS)]) for i in range(messages)]


def open_loop(url: str, rate: float, seconds: float) -> tuple[list[float], int]:
    """Send `rate` messages per second from many users regardless of answers; return latencies and errors."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def send(index: int) -> None:
        nonlocal errors
        try:
            latency = ask(url, f"load-{index % 300}", QUESTIONS[index % len(QUESTIONS)])
            with lock:
                latencies.append(latency)
        except OSError:
            with lock:
                errors += 1

    with ThreadPoolExecutor(max_workers=64) as pool:
        started = time.perf_counter()
        for index in range(int(rate * seconds)):
            delay = started + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, index)
    return latencies, errors


def closed_loop(url: str, users: int, seconds: float) -> float:
    """Messages per second with `users` senders each waiting for its answer before the next."""
    done = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def user(number: int) -> None:
        nonlocal done
        index = 0
        while time.perf_counter() < deadline:
            ask(url, f"closed-{number}-{index // CONVERSATION}", QUESTIONS[index % len(QUESTIONS)])
            index += 1
            with lock:
                done += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://localhost:5005/webhooks/rest/webhook")
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    print(f"date {date.today()}, machine {platform.node()} {platform.machine()}, python {platform.python_version()}")
    one_user(args.url, 10)  # warm up
    single = one_user(args.url, 200)
    print(f"one user: p50 {statistics.median(single):.0f} ms, p99 {percentile(single, 0.99):.0f} ms "
          f"(n=200, conversations of {CONVERSATION})")
    long = long_conversation(args.url, 60)
    print(f"one 60-message conversation: messages 1-10 p50 {statistics.median(long[:10]):.0f} ms, "
          f"messages 51-60 p50 {statistics.median(long[50:]):.0f} ms")
    loaded, errors = open_loop(args.url, args.rate, args.seconds)
    print(f"open loop {args.rate:g} msg/s for {args.seconds:g} s: p50 {statistics.median(loaded):.0f} ms, "
          f"p99 {percentile(loaded, 0.99):.0f} ms, errors {errors}")
    for users in (4, 8, 16):
        print(f"closed loop, {users} users: {closed_loop(args.url, users, 15):.1f} msg/s")


if __name__ == "__main__":
    main()
