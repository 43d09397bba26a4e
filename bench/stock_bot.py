"""The stock Rasa bot `make bench` compares the assistant with (bench/stock/): the same Rasa version, canned
responses only, four intents, rules, Rasa's in-memory tracker store, no action server.

Trained once: the model is named by a hash of its inputs (bench/stock/ and requirements.txt) and kept in
bench/stock/models/, so a second `make bench` serves it at once.

Usage: python bench/stock_bot.py   → trains if needed, prints the model's path
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

from bot import serve

ROOT = Path(__file__).resolve().parents[1]
STOCK = ROOT / "bench" / "stock"
MODELS = STOCK / "models"
INPUTS = [STOCK / "config.yml", STOCK / "domain.yml", STOCK / "data", ROOT / "requirements.txt"]


def inputs_hash() -> str:
    digest = hashlib.sha256()
    for entry in INPUTS:
        files = sorted(p for p in entry.rglob("*") if p.is_file()) if entry.is_dir() else [entry]
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def model() -> Path:
    """The stock bot's model, trained first if its inputs changed (about a minute)."""
    path = MODELS / f"stock-{inputs_hash()}.tar.gz"
    if path.exists():
        return path
    MODELS.mkdir(exist_ok=True)
    subprocess.run([sys.executable, "-m", "rasa", "train", "--config", "config.yml", "--domain", "domain.yml",
                    "--data", "data", "--out", str(MODELS), "--fixed-model-name", path.name.removesuffix(".tar.gz")],
                   cwd=STOCK, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for old in MODELS.glob("stock-*.tar.gz"):
        if old != path:
            old.unlink()
    return path


def start(model_path: Path, port: int, output: Path | None = None) -> subprocess.Popen:
    """`rasa run` of the stock bot on `port` (REST channel, in-memory tracker store); returns once it answers."""
    command = [sys.executable, "-m", "rasa", "run", "--model", str(model_path), "--port", str(port),
               "--credentials", "credentials.yml"]
    if output is None:
        process = subprocess.Popen(command, cwd=STOCK)
    else:
        with open(output, "ab") as sink:
            process = subprocess.Popen(command, cwd=STOCK, stdout=sink, stderr=subprocess.STDOUT)
    try:
        serve.wait_for(f"http://localhost:{port}/", process, time.monotonic() + serve.STARTUP_SECONDS)
    except Exception:
        serve.stop([process])
        raise
    return process


if __name__ == "__main__":
    print(model())
