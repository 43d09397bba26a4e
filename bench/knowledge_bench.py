"""Knowledge-base benchmark: build time and guide/region/item lookup latency. Prints one line per figure.

Usage: python bench/knowledge_bench.py [--rounds N]
"""
from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from knowledge.build import build
from knowledge.query import KnowledgeBase

CASES = [
    ("002036004001", "耒阳"), ("002036004002", "祁东"), ("002036007004", "长沙市本级"), ("002036006001", "望城区"),
    ("002036002003", "长沙"), ("002036007004", "宜章"), ("002036001002", "株洲"), ("002036001001", "武汉"),
]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def timed(function, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def measure(rounds: int = 200) -> dict:
    """Build time and lookup latencies (ms), as a dict."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        path = build(Path(folder) / "knowledge.db")
        build_seconds = time.perf_counter() - started
        kb = KnowledgeBase(path)
        regions = [region for _, region in CASES]
        kb.guide(*CASES[0])  # warm the caches a server keeps between messages
        guide = [s for item, region in CASES for s in timed(lambda: kb.guide(item, region), rounds)]
        resolved = [kb.resolve_region(region).region for region in regions]
        guide_resolved = [s for (item, _), region in zip(CASES, resolved)
                          for s in timed(lambda: kb.guide(item, region), rounds)]
        region = [s for name in regions for s in timed(lambda: kb.resolve_region(name), rounds)]
        items = [s for text in ("来阳的异地安置备案打哪个电话", "生于津贴能拿多少钱", "住院 reimbursement")
                 for s in timed(lambda: kb.find_items(text), rounds)]
    results = {"build_s": round(build_seconds, 2)}
    for name, samples in (("guide(item, region name)", guide), ("guide(item, resolved region)", guide_resolved),
                          ("resolve_region", region), ("find_items", items)):
        results[name] = {"p50_ms": round(statistics.median(samples), 3),
                         "p99_ms": round(percentile(samples, 0.99), 3), "n": len(samples)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    print(f"date {date.today()}, machine {platform.node()} {platform.machine()}, python {platform.python_version()}")
    results = measure(args.rounds)
    print(f"build (validate + write knowledge.db): {results.pop('build_s'):.2f} s")
    for name, figures in results.items():
        print(f"{name}: p50 {figures['p50_ms']:.3f} ms, p99 {figures['p99_ms']:.3f} ms, n={figures['n']}")


if __name__ == "__main__":
    main()
