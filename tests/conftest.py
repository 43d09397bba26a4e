"""Shared fixtures and helpers: the real knowledge.db (built from the repo's data files once per test session), free
ports, and the real servers (action server, Rasa with the trained model, optionally the web server) on free ports.

Test files import the helpers with `from conftest import …` (tests/ is on sys.path under pytest's default import
mode). The model is the one `make model` trains (bot.training.train: trained if config, domain or data changed);
TEST_MODEL=path/to/model.tar.gz runs the server tests against another model file.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot import serve
from bot.serve import free_port
from knowledge.build import build
from knowledge.paths import DB_PATH
from knowledge.query import KnowledgeBase


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    if not DB_PATH.exists():
        build()
    return KnowledgeBase(DB_PATH)


def trained_model() -> Path:
    """The model the server tests use: TEST_MODEL, else the project's trained model (trained if out of date)."""
    if os.environ.get("TEST_MODEL"):
        return Path(os.environ["TEST_MODEL"])
    from bot.training.train import train
    return train()


class Servers:
    """The action server and the Rasa server (and, with `web`, the web server) on free ports, with their own SQLite
    tracker store and operations database in `folder` and their own HTTP API token; each can be stopped and started again (the tracker
    store stays)."""

    def __init__(self, folder: Path, web: bool = False, env: dict[str, str] | None = None,
                 output: Path | None = None) -> None:
        self.folder, self.output = folder, output
        self.env = {serve.TOKEN_VARIABLE: secrets.token_urlsafe(24), "OPS_DB": str(folder / "ops.db"), **(env or {})}
        self.model = trained_model()
        self.actions_port, self.rasa_port = free_port(), free_port()
        self.web_port = free_port() if web else None
        self.tracker_db = folder / "trackers.db"
        self.endpoints = serve.endpoints_for(self.actions_port, tracker_db=self.tracker_db,
                                             copy=folder / "endpoints.yml")
        self.actions: subprocess.Popen | None = None
        self.rasa: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None

    @property
    def rasa_url(self) -> str:
        return f"http://localhost:{self.rasa_port}"

    @property
    def rest_url(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    @property
    def token(self) -> str:
        return self.env[serve.TOKEN_VARIABLE]

    @property
    def web_url(self) -> str:
        return f"http://localhost:{self.web_port}"

    def start(self) -> Servers:
        processes = serve.start(self.model, self.actions_port, self.rasa_port, self.endpoints, self.web_port,
                                self.env, self.output)
        self.actions, self.rasa = processes[0], processes[1]
        self.web = processes[2] if self.web_port else None
        return self

    def stop_actions(self) -> None:
        serve.stop([self.actions] if self.actions else [])
        self.actions = None

    def start_actions(self) -> None:
        self.actions = serve.start_actions(self.actions_port, self.env, self.output)

    def restart_rasa(self) -> None:
        serve.stop([self.rasa] if self.rasa else [])
        self.rasa = serve.start_rasa(self.model, self.rasa_port, self.endpoints, self.env, self.output)

    def stop(self) -> None:
        serve.stop([process for process in (self.web, self.rasa, self.actions) if process is not None])

    def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation's tracker through Rasa's HTTP API (with the token)."""
        url = f"{self.rasa_url}/conversations/{sender}/tracker?token={self.token}"
        with urllib.request.urlopen(url, timeout=60) as response:
            return json.load(response)


@contextmanager
def running_servers(tmp_path_factory: pytest.TempPathFactory, name: str = "servers", **options: Any
                    ) -> Iterator[Servers]:
    """Servers started in a fresh folder, stopped on leaving the block."""
    servers = Servers(tmp_path_factory.mktemp(name), **options).start()
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The real servers, shared by a test module."""
    with running_servers(tmp_path_factory) as started:
        yield started


def post(url: str, body: Any, timeout: float = 60) -> tuple[int, Any]:
    """POST a JSON value (or raw bytes); the status and the decoded JSON answer (or the text, if not JSON)."""
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def say(url: str, sender: str, message: str) -> list[dict]:
    """One message through the REST channel; the bot's messages."""
    status, replies = post(url, {"sender": sender, "message": message})
    assert status == 200, (status, replies)
    return replies


def reply_text(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def conversation(rest: str, sender: str, messages: list[str]) -> list[str]:
    """Send the messages one after the other as `sender`; the text of each reply."""
    return [reply_text(say(rest, sender, message)) for message in messages]


@contextmanager
def running_cluster(request: pytest.FixtureRequest, name: str, purpose: str, **options: Any) -> Iterator[Any]:
    """The deployment's topology (deploy/cluster.py) in build/<name>-<pid>, started for a test module and stopped
    after it; its logs are kept when a test failed. `options` go to Cluster (rasa_servers, rest_rate, env …)."""
    from deploy.cluster import ROOT, Cluster, ServiceMissing
    folder = ROOT / "build" / f"{name}-{os.getpid()}"
    failed_before = request.session.testsfailed
    cluster = Cluster(trained_model(), folder, **options)
    try:
        cluster.start()
    except ServiceMissing as error:
        pytest.fail(f"{error} — the {purpose} needs the real PostgreSQL, Redis and nginx", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()
        if request.session.testsfailed == failed_before:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"\nthe cluster's logs are kept in {folder / 'logs'}")


# Fixtures that start what a marker names: a test using one must carry the marker, so that `make test-fast`
# (pytest -m "not server and not browser and not cluster and not model") never starts a server or a browser.
NEEDS_MARKER = {"servers": "server", "site": "server", "real_site": "server", "browser": "browser",
                "cluster": "cluster"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unmarked = [f"{item.nodeid} (uses {fixture}: mark it {marker})" for item in items
                for fixture, marker in NEEDS_MARKER.items()
                if fixture in getattr(item, "fixturenames", ()) and item.get_closest_marker(marker) is None]
    if unmarked:
        raise pytest.UsageError("tests without the marker their fixtures need:\n  " + "\n  ".join(unmarked))
