"""`make bench`: every figure of DESIGN.md's speed bars, each next to its budget, written to results/bench/.

1. the knowledge micro-benchmark (build, guide, resolve_region, find_items);
2. cold start: `make model` with the model already trained, then the three processes of `make run` (action
   server, Rasa server, web server) started from nothing on the bench's ports, until the first REST reply arrives;
3. resident memory (VmRSS) of each process after the warm-up;
4. the REST benchmark (bench/rest_bench.py): one user, long conversations, 20 msg/s open loop, closed loop;
5. resident memory after the load;
6. the assistant against a stock Rasa bot of the same version, side by side (bench/compare.py: 1, 10 and 50
   users, conversations of 10 and 60 messages), with the ratios;
7. full training: `rasa train` into a temporary directory with an empty training cache (BENCH_SKIP_TRAINING=1
   skips it; it takes minutes).

The servers get the bench's ports (RASA_PORT, ACTIONS_PORT, WEB_PORT and STOCK_PORT, else 7005, 7055, 7080 and
7006; never the 5005, 5055 and 8080 of `make run`) and the tracker store of endpoints.yml, its database in a
temporary directory. Whether the machine was quiet is measured, not assumed: the CPU time the rest of the machine used
during the REST benchmark is reported. Output: results/bench/bench-<date>-<time>.json, results/bench/latest.json
and results/bench/summary.md (a markdown table ready to paste into the README), also printed.

Usage: python bench/run_all.py MODEL
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare  # noqa: E402
import harness  # noqa: E402
import knowledge_bench  # noqa: E402
import rest_bench  # noqa: E402
import stock_bot  # noqa: E402

from bot import serve  # noqa: E402
from bot.training.train import TRAINING_ENVIRONMENT  # noqa: E402

ROOT = harness.ROOT
RESULTS = ROOT / "results" / "bench"
QUIET_SHARE = 0.10  # the machine counts as quiet when the other processes used under 10% of its CPU


def log(line: str) -> None:
    print(f"[bench] {line}", flush=True)


def first_reply(url: str, deadline: float) -> float:
    """Ask until the first answer arrives; return when it arrived (time.monotonic())."""
    body = json.dumps({"sender": "bench-cold-start", "message": rest_bench.QUESTIONS[0]}).encode()
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                if json.load(response):
                    return time.monotonic()
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer from {url}")


def memory(servers: harness.Servers) -> dict:
    return {name: round(harness.rss_mib(process.pid), 1) for name, process in servers.by_name().items()}


def cold_start(model: Path, folder: Path) -> tuple[harness.Servers, dict]:
    """`make model` with a trained model (what `make run` does first), then the servers until the first answer."""
    before = model.stat().st_mtime if model.exists() else None
    started = time.monotonic()
    subprocess.run(["make", "--no-print-directory", "-s", "model"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    make_model = time.monotonic() - started
    if not model.exists() or model.stat().st_mtime != before:
        raise RuntimeError(f"`make model` trained again (config, domain or data changed during the bench): "
                           f"{model.name} is not the model to time; run `make bench` again")
    servers = harness.start_servers(model, folder, harness.port("ACTIONS_PORT"), harness.port("RASA_PORT"),
                                    harness.port("WEB_PORT"), output=folder / "servers.log")
    answered = first_reply(servers.rest_url, time.monotonic() + 120)
    figures = {"make_model_s": round(make_model, 1), "servers_ready_s": round(servers.ready - servers.started, 1),
               "first_answer_s": round(answered - servers.started, 1),
               "total_s": round(make_model + answered - servers.started, 1)}
    return servers, figures


def against_stock(servers: harness.Servers, folder: Path) -> dict:
    """bench/compare.py: the stock bot (trained once) started beside the assistant, the same load on both."""
    stock = stock_bot.start(stock_bot.model(), harness.port("STOCK_PORT"), output=folder / "servers.log")
    try:
        return compare.measure(compare.Bot("stock", harness.rest_url(harness.port("STOCK_PORT")), [stock.pid]),
                               compare.assistant(servers), log=log)
    finally:
        serve.stop([stock])


def training(folder: Path) -> dict:
    """`rasa train` from scratch: fresh output directory and an empty training cache, so every component trains."""
    env = dict(os.environ, **TRAINING_ENVIRONMENT, RASA_CACHE_DIRECTORY=str(folder / "cache"), PYTHONPATH=str(ROOT))
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "rasa", "train", "--config", "config.yml", "--domain", "domain.yml",
                    "--data", "data", "--out", str(folder / "models"), "--fixed-model-name", "bench"],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return {"seconds": round(time.monotonic() - started, 1)}


def verdict(value: float | None, budget: float) -> str:
    return "—" if value is None else ("PASS" if value <= budget else "FAIL")


def rows(results: dict) -> list[tuple[str, str, str, str]]:
    """(figure, measured, budget, verdict) for the summary table."""
    k, rest, cold = results["knowledge"], results["rest"], results["cold_start"]
    one, long, load = rest["one_user"], rest["long_conversation"], rest["open_loop"]
    best = max(rest["closed_loop"], key=lambda run: run["messages_per_s"])
    others = ", ".join(f"{run['messages_per_s']} with {run['users']}" for run in rest["closed_loop"] if run is not best)
    table = [
        ("knowledge build (validate every record + write knowledge.db)", f"{k['build_s']} s", "< 30 s",
         verdict(k["build_s"], 30)),
        ("`guide(item, resolved region)`", f"p50 {k['guide(item, resolved region)']['p50_ms']} ms, "
         f"p99 {k['guide(item, resolved region)']['p99_ms']} ms", "p50 ≤ 1 ms",
         verdict(k["guide(item, resolved region)"]["p50_ms"], 1)),
        ("`guide(item, \"region name\")` / `resolve_region` / `find_items` p50",
         f"{k['guide(item, region name)']['p50_ms']} / {k['resolve_region']['p50_ms']} / "
         f"{k['find_items']['p50_ms']} ms", "reported", "—"),
        ("one user, REST, real actions (conversations of 10 messages), p50",
         f"{one['p50_ms']:.0f} ms", "≤ 80 ms", verdict(one["p50_ms"], 80)),
        ("one user, REST, real actions, p99", f"{one['p99_ms']:.0f} ms", "≤ 300 ms", verdict(one["p99_ms"], 300)),
        (f"long conversations ({long['conversations']} × {long['messages']} messages): messages 1–10 vs 51–60, p50",
         f"{long['first_10']['p50_ms']:.0f} ms vs {long['last_10']['p50_ms']:.0f} ms "
         f"(p99 {long['last_10']['p99_ms']:.0f} ms)", "reported", "—"),
        (f"open loop, {load['rate']:g} messages/s for {load['seconds']:g} s, p99",
         f"{load['p99_ms']:.0f} ms (p50 {load['p50_ms']:.0f} ms, {load['errors']} errors)", "≤ 1 s",
         "FAIL" if load["errors"] or load["p99_ms"] is None else verdict(load["p99_ms"], 1000)),
        ("closed-loop maximum throughput", f"{best['messages_per_s']} msg/s ({best['users']} users; {others})",
         "reported", "—"),
        ("cold start of `make run` with a trained model, to the first REST answer",
         f"{cold['total_s']} s (make model {cold['make_model_s']} s + servers {cold['first_answer_s']} s)",
         "≤ 60 s", verdict(cold["total_s"], 60)),
    ]
    memory_after = results["memory_after_load_mib"]
    for name, warm in results["memory_after_warmup_mib"].items():
        table.append((f"resident memory, {name} (after warm-up → after the load)",
                      f"{warm:.0f} → {memory_after[name]:.0f} MiB", "reported", "—"))
    if results.get("training"):
        seconds = results["training"]["seconds"]
        table.append(("full training (`rasa train`, empty cache)", f"{int(seconds // 60)} min {seconds % 60:.0f} s",
                      "≤ 15 min", verdict(seconds, 900)))
    else:
        table.append(("full training", "skipped (BENCH_SKIP_TRAINING=1)", "≤ 15 min", "—"))
    return table


def summary(results: dict) -> str:
    m, q = results["machine"], results["quiet"]
    lines = [
        f"Measured by `make bench` on {results['date']}: {m['cores']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, "
        f"Python {m['python']}, {m['os']}; model `{results['model']}`.",
        f"Machine {'quiet' if q['quiet'] else 'NOT quiet'} during the REST benchmark: other processes used "
        f"{q['other_cpu_share']:.0%} of the CPU (servers {q['servers_cpu_share']:.0%}, "
        f"benchmark client {q['client_cpu_share']:.0%}); load average at start {' '.join(m['load_average_at_start'])}.",
        "",
        "| figure | measured | budget | verdict |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {figure} | {measured} | {budget} | {ok} |" for figure, measured, budget, ok in rows(results)]
    lines += ["", "Against a stock Rasa bot of the same version (bench/stock/: canned responses, four intents, in-memory "
              "tracker store), the same closed-loop load on both, one after the other; ratios are the assistant's "
              "figure over the stock bot's:", "", compare.table(results["stock"]).rstrip()]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    model = Path(argv[0]).resolve()
    results: dict = {"date": datetime.now().strftime("%Y-%m-%d %H:%M"), "machine": harness.machine(),
                     "model": model.name}
    log(f"{results['date']}, {results['machine']}")
    results["knowledge"] = knowledge_bench.measure()
    log(f"knowledge: {results['knowledge']}")
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        folder = Path(scratch)
        servers, results["cold_start"] = cold_start(model, folder)
        log(f"cold start: {results['cold_start']}")
        try:
            rest_bench.one_user(servers.rest_url, 20)
            results["memory_after_warmup_mib"] = memory(servers)
            log(f"memory after warm-up (MiB): {results['memory_after_warmup_mib']}")
            pids = [process.pid for process in servers.processes]
            servers_cpu, client_cpu = sum(map(harness.cpu_seconds, pids)), sum(os.times()[:2])
            machine_cpu, started = harness.machine_busy_seconds(), time.monotonic()
            results["rest"] = rest_bench.measure(servers.rest_url, log=log)
            elapsed = time.monotonic() - started
            capacity = elapsed * (os.cpu_count() or 1)
            servers_cpu = sum(map(harness.cpu_seconds, pids)) - servers_cpu
            client_cpu = sum(os.times()[:2]) - client_cpu
            other = max(0.0, harness.machine_busy_seconds() - machine_cpu - servers_cpu - client_cpu)
            results["quiet"] = {"seconds": round(elapsed), "servers_cpu_share": servers_cpu / capacity,
                                "client_cpu_share": client_cpu / capacity, "other_cpu_share": other / capacity,
                                "quiet": other / capacity < QUIET_SHARE}
            log(f"CPU during the REST benchmark: {results['quiet']}")
            results["memory_after_load_mib"] = memory(servers)
            log(f"memory after the load (MiB): {results['memory_after_load_mib']}")
            results["stock"] = against_stock(servers, folder)
        finally:
            servers.stop()
        if os.environ.get("BENCH_SKIP_TRAINING") == "1":
            results["training"] = None
            log("training skipped (BENCH_SKIP_TRAINING=1)")
        else:
            log("training from scratch (several minutes) …")
            results["training"] = training(folder)
            log(f"training: {results['training']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y-%m-%d-%H%M")
    text = json.dumps(results, ensure_ascii=False, indent=1)
    (RESULTS / f"bench-{stamp}.json").write_text(text, encoding="utf-8")
    (RESULTS / "latest.json").write_text(text, encoding="utf-8")
    table = summary(results)
    (RESULTS / "summary.md").write_text(table, encoding="utf-8")
    print("\n" + table)
    log(f"written: {RESULTS / f'bench-{stamp}.json'}, {RESULTS / 'latest.json'}, {RESULTS / 'summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
