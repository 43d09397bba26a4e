"""A local scale-out cluster on this machine, with Rasa's own components and the real servers:

    nginx /webhooks/ (consistent hash on the sender id / WeChat openid)
      ├── Rasa server 1 ─┐                      ┌── PostgreSQL (Rasa's SQL tracker store, shared)
      └── Rasa server 2 ─┴── action server ─ …  └── Redis (Rasa's lock store; the rate limits and WeChat's MsgIds)
    nginx, every other path
      └── web servers 1, 2 (pages, widget, /api/) ── /api/chat → nginx's internal address → the Rasa servers

Only nginx's public address is meant to be reached; every server listens on 127.0.0.1. Rasa's HTTP API is not
proxied: it answers on each Rasa server's own address with the token (`Cluster.token`, in secrets.env).

Every process runs as the current user in a scratch folder (default build/cluster/: data, logs, pid files, the
generated nginx.conf), on its own ports; PostgreSQL, which refuses to run as root, runs as the `postgres` user
when we are root. The servers come from Debian's packages: deploy/install_services.sh (make services).

Usage: python -m deploy.cluster MODEL [--port 8088] [--rasa-servers 2] [--dir build/cluster] [--fresh]
The REST channel is then at http://localhost:8088/webhooks/rest/webhook. Ctrl-C stops every process.
The PostgreSQL data stays in the folder between runs (the conversations survive a restart); --fresh starts over.
"""
from __future__ import annotations

import argparse
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot import serve
from bot.serve import free_port
from deploy import nginx_conf

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
ENDPOINTS = DEPLOY / "endpoints-cluster.yml"
INSTALL_HINT = "install them with deploy/install_services.sh (make services)"
# Two Rasa servers load the model at once; on 2 busy cores that has taken 4 minutes.
STARTUP_SECONDS = int(os.environ.get("CLUSTER_STARTUP_SECONDS", "600"))
DB_USER = "rasa"
DB_NAME = "yibao"
POSTGRES_OS_USER = "postgres"  # the account PostgreSQL runs under when we are root


class ServiceMissing(RuntimeError):
    """PostgreSQL, Redis or nginx is not installed."""


def postgres_bin() -> Path:
    """The newest PostgreSQL server's binaries: Debian keeps them in /usr/lib/postgresql/<version>/bin."""
    found = [path.parent for path in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    if not found:
        initdb = shutil.which("initdb")
        if not initdb:
            raise ServiceMissing(f"PostgreSQL server binaries (initdb, pg_ctl) not found; {INSTALL_HINT}")
        return Path(initdb).resolve().parent
    return max(found, key=lambda path: [int(part) for part in re.findall(r"\d+", path.parent.name)] or [0])


def executable(name: str, *fallbacks: str) -> str:
    for candidate in (shutil.which(name), *fallbacks):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise ServiceMissing(f"{name} not found; {INSTALL_HINT}")


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Cluster:
    """PostgreSQL, Redis, one action server, `rasa_servers` Rasa servers and nginx in front of them.

    `start()` returns when nginx answers /status through to the Rasa servers; `stop()` stops everything it
    started (also after a failed start). `url` is nginx's address, `rasa_urls` the Rasa servers' own addresses.
    """

    def __init__(self, model: Path, folder: Path, rasa_servers: int = 2, port: int | None = None,
                 fresh: bool = True, web_servers: int = 2, env: dict[str, str] | None = None,
                 rest_rate: str = nginx_conf.REST_RATE) -> None:
        """`env` is added to the Rasa and web servers' environment (WECHAT_TOKEN, RATE_LIMIT_* …); `rest_rate`
        is nginx's limit of the REST channel per client address."""
        self.model = Path(model).resolve()
        self.folder = Path(folder).resolve()
        self.logs = self.folder / "logs"
        self.port = port or free_port()
        self.postgres_port, self.redis_port, self.actions_port = free_port(), free_port(), free_port()
        self.rasa_ports = [free_port() for _ in range(rasa_servers)]
        self.web_ports = [free_port() for _ in range(web_servers)]
        self.internal_port = free_port()
        self.fresh, self.extra_env, self.rest_rate = fresh, env or {}, rest_rate
        self.rasa: list[subprocess.Popen] = []
        self.processes: list[subprocess.Popen] = []  # every foreground process, in start order
        self.postgres_started = False
        self.secrets: dict[str, str] = {}

    # addresses -------------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.rasa_ports]

    @property
    def web_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.web_ports]

    @property
    def token(self) -> str:
        """The Rasa servers' HTTP API token."""
        return self.secrets["rasa_api"]

    @property
    def env(self) -> dict[str, str]:
        """The variables deploy/endpoints-cluster.yml reads."""
        return {
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
            "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": str(self.postgres_port), "POSTGRES_DB": DB_NAME,
            "POSTGRES_USER": DB_USER, "POSTGRES_PASSWORD": self.secrets["postgres"],
            "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(self.redis_port),
            "REDIS_PASSWORD": self.secrets["redis"], "REDIS_DB": "1",
        }

    # start and stop --------------------------------------------------------------------------------------------
    def start(self) -> Cluster:
        if not self.model.is_file():
            raise FileNotFoundError(f"model {self.model} not found (python -m bot.training.train trains it)")
        pg_bin = postgres_bin()
        redis_server = executable("redis-server", "/usr/bin/redis-server")
        nginx = executable("nginx", "/usr/sbin/nginx")
        try:
            self._prepare_folder()
            self._start_postgres(pg_bin)
            self._start_redis(redis_server)
            self._start_bots()
            self._start_nginx(nginx)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop nginx, the Rasa servers, the action server and Redis, then PostgreSQL (fast shutdown)."""
        serve.stop(list(reversed(self.processes)))
        if self.postgres_started:
            subprocess.run(self._as_db_user([str(postgres_bin() / "pg_ctl"), "-D", str(self._pg_data), "-m",
                                             "fast", "-w", "-t", "60", "stop"]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            self.postgres_started = False

    def kill_rasa(self, index: int) -> None:
        """SIGKILL one Rasa server, as a crash would: no shutdown, nothing flushed."""
        process = self.rasa[index]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    # the parts -------------------------------------------------------------------------------------------------
    @property
    def _pg_data(self) -> Path:
        return self.folder / "postgres" / "data"

    def _prepare_folder(self) -> None:
        secrets_file = self.folder / "secrets.env"
        reuse = not self.fresh and (self._pg_data / "PG_VERSION").exists() and secrets_file.exists()
        if not reuse and self.folder.exists():
            if any(self.folder.iterdir()) and not secrets_file.exists():
                raise RuntimeError(f"{self.folder} is not empty and not a cluster folder; choose another --dir")
            shutil.rmtree(self.folder)
        for folder in (self.logs, self.folder / "redis", self.folder / "nginx" / "tmp"):
            folder.mkdir(parents=True, exist_ok=True)
        if reuse:
            self.secrets = dict(line.split("=", 1) for line in secrets_file.read_text().split())
        else:
            self.secrets = {"postgres": secrets.token_hex(16), "redis": secrets.token_hex(16)}
        self.secrets.setdefault("rasa_api", secrets.token_urlsafe(24))
        self.secrets.setdefault("ops_salt", secrets.token_urlsafe(24))
        secrets_file.touch(mode=0o600)
        secrets_file.chmod(0o600)
        secrets_file.write_text("".join(f"{key}={value}\n" for key, value in self.secrets.items()))

    def _as_db_user(self, command: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return command
        return ["runuser", "-u", POSTGRES_OS_USER, "--", *command]

    def _chown_to_db_user(self, *paths: Path) -> None:
        if os.geteuid() != 0:
            return
        try:
            account = pwd.getpwnam(POSTGRES_OS_USER)
        except KeyError:
            raise ServiceMissing(f"we are root and there is no '{POSTGRES_OS_USER}' user to run PostgreSQL as; "
                                 f"{INSTALL_HINT}") from None
        for path in paths:
            os.chown(path, account.pw_uid, account.pw_gid)

    def _start_postgres(self, pg_bin: Path) -> None:
        home = self.folder / "postgres"
        home.mkdir(exist_ok=True)
        log = self.logs / "postgres.log"
        log.touch()
        self._chown_to_db_user(home, log)
        if not (self._pg_data / "PG_VERSION").exists():
            password_file = home / "password"
            password_file.write_text(self.secrets["postgres"] + "\n")
            password_file.chmod(0o600)
            self._chown_to_db_user(password_file)
            self._run(self._as_db_user([
                str(pg_bin / "initdb"), "-D", str(self._pg_data), "-U", DB_USER, f"--pwfile={password_file}",
                "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale"]),
                "initdb")
            password_file.unlink()
        # Our own port, TCP on 127.0.0.1 only, no Unix socket (nothing is shared with a system PostgreSQL).
        (self._pg_data / "postgresql.auto.conf").write_text(
            "# written by deploy/cluster.py\n"
            f"port = {self.postgres_port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
            "max_connections = 50\n")
        self._chown_to_db_user(self._pg_data / "postgresql.auto.conf")
        self._run(self._as_db_user([str(pg_bin / "pg_ctl"), "-D", str(self._pg_data), "-l", str(log), "-w",
                                    "-t", str(STARTUP_SECONDS), "start"]), "pg_ctl start", log)
        self.postgres_started = True
        import psycopg2  # pinned in requirements.txt (Rasa's SQL tracker store uses it too)

        connection = psycopg2.connect(host="127.0.0.1", port=self.postgres_port, user=DB_USER,
                                      password=self.secrets["postgres"], dbname="postgres")
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("select 1 from pg_database where datname = %s", (DB_NAME,))
                if cursor.fetchone() is None:
                    cursor.execute(f'create database "{DB_NAME}"')
        finally:
            connection.close()

    def _start_redis(self, redis_server: str) -> None:
        log = self.logs / "redis.log"
        process = self._spawn(
            [redis_server, "--bind", "127.0.0.1", "--port", str(self.redis_port), "--requirepass",
             self.secrets["redis"], "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--dir", str(self.folder / "redis"), "--logfile", str(log)], log)
        import redis  # pinned in requirements.txt (Rasa's Redis lock store uses it too)

        client = redis.Redis(host="127.0.0.1", port=self.redis_port, password=self.secrets["redis"])
        deadline = time.monotonic() + 60
        while True:
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start:\n{_log_tail(log)}") from None
                time.sleep(0.2)

    def _start_bots(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2",
                   SANIC_KEEP_ALIVE_TIMEOUT=serve.SANIC_KEEP_ALIVE_TIMEOUT, **self.env, **self.extra_env)
        actions_log = self.logs / "actions.log"
        actions = self._spawn([sys.executable, "-m", "actions", "--port", str(self.actions_port)], actions_log,
                              dict(env, SANIC_HOST="127.0.0.1"))
        rasa_env = dict(env, **{serve.TOKEN_VARIABLE: self.token})
        for number, port in enumerate(self.rasa_ports, 1):
            self.rasa.append(self._spawn(
                [sys.executable, "-m", "bot.rasa_run", "--model", str(self.model), "--interface", "127.0.0.1",
                 "--port", str(port), "--enable-api", "--cors", self.url, "--credentials", "credentials.yml",
                 "--endpoints", str(ENDPOINTS)],
                self.logs / f"rasa-{number}.log", rasa_env))
        database = (f"postgresql://{DB_USER}:{self.secrets['postgres']}@127.0.0.1:{self.postgres_port}/"
                    f"{DB_NAME}")  # the operations console: its tables beside the tracker store's
        web_env = dict(env, RASA_URL=f"http://127.0.0.1:{self.internal_port}", WEB_HOST="127.0.0.1",
                       WEB_BEHIND_PROXY="1", OPS_DB=database, TRACKER_DB=database,
                       OPS_SENDER_SALT=self.secrets["ops_salt"], **{serve.TOKEN_VARIABLE: self.token})
        webs = [self._spawn([sys.executable, "-m", "bot.web.server"], self.logs / f"web-{number}.log",
                            dict(web_env, WEB_PORT=str(port)))
                for number, port in enumerate(self.web_ports, 1)]
        deadline = time.monotonic() + STARTUP_SECONDS
        self._wait(f"http://127.0.0.1:{self.actions_port}/health", actions, actions_log, deadline)
        for number, (url, process) in enumerate(zip(self.rasa_urls, self.rasa), 1):
            self._wait(f"{url}/version", process, self.logs / f"rasa-{number}.log", deadline)
        for number, (url, process) in enumerate(zip(self.web_urls, webs), 1):
            self._wait(f"{url}/api/regions", process, self.logs / f"web-{number}.log", deadline)

    def _start_nginx(self, nginx: str) -> None:
        prefix = self.folder / "nginx"
        conf = prefix / "nginx.conf"
        text = nginx_conf.render([f"127.0.0.1:{port}" for port in self.rasa_ports], f"127.0.0.1:{self.port}",
                                 prefix, self.logs, conf, [f"127.0.0.1:{port}" for port in self.web_ports],
                                 f"127.0.0.1:{self.internal_port}", self.rest_rate)
        conf.write_text(text)
        log = self.logs / "nginx-error.log"
        self._run([nginx, "-t", "-q", "-p", f"{prefix}/", "-c", str(conf), "-e", str(log)], "nginx -t", log)
        process = self._spawn([nginx, "-p", f"{prefix}/", "-c", str(conf), "-e", str(log)], log)
        self._wait(f"{self.url}/webhooks/rest/", process, log, time.monotonic() + 60)
        self._wait(f"{self.url}/api/regions", process, log, time.monotonic() + 60)

    # process helpers -------------------------------------------------------------------------------------------
    def _spawn(self, command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
        with open(log, "ab") as output:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                       stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    @staticmethod
    def _run(command: list[str], what: str, log: Path | None = None) -> None:
        result = subprocess.run(command, cwd="/", capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{what} failed ({result.returncode}): {result.stdout}{result.stderr}"
                               + (f"\n{_log_tail(log)}" if log else ""))

    @staticmethod
    def _wait(url: str, process: subprocess.Popen, log: Path, deadline: float) -> None:
        try:
            serve.wait_for(url, process, deadline)
        except serve.StartupError as error:
            raise RuntimeError(f"{error}; {log}:\n{_log_tail(log)}") from None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="the trained model (python -m bot.training.train prints it)")
    parser.add_argument("--port", type=int, default=8088, help="nginx's port (default 8088)")
    parser.add_argument("--rasa-servers", type=int, default=2, help="how many Rasa servers (default 2)")
    parser.add_argument("--dir", type=Path, default=ROOT / "build" / "cluster", help="scratch folder")
    parser.add_argument("--fresh", action="store_true", help="start with empty PostgreSQL data")
    args = parser.parse_args(argv)
    cluster = Cluster(args.model, args.dir, args.rasa_servers, args.port, fresh=args.fresh)
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    try:
        cluster.start()
        rasa = "\n".join(f"  Rasa server {n}  {url}  (log {cluster.logs}/rasa-{n}.log)"
                         for n, url in enumerate(cluster.rasa_urls, 1))
        print(f"""
医保办事助手 cluster is running (folder {cluster.folder}):
  nginx          {cluster.url}/webhooks/rest/webhook  {{"sender": "u1", "message": "耒阳 异地安置备案要什么材料"}}
                 {cluster.url}/webhooks/wechat/webhook  (hashed on WeChat's openid)
                 {cluster.url}/  {cluster.url}/agent  {cluster.url}/api/…  (the web servers)
{rasa}
                 HTTP API on these addresses only, ?token= (rasa_api in {cluster.folder}/secrets.env)
  web servers    {"  ".join(cluster.web_urls)}
  action server  http://127.0.0.1:{cluster.actions_port}/webhook
  PostgreSQL     127.0.0.1:{cluster.postgres_port} db {DB_NAME} user {DB_USER} (password in {cluster.folder}/secrets.env)
  Redis          127.0.0.1:{cluster.redis_port} db 1
Press Ctrl-C to stop.""", flush=True)
        signal.signal(signal.SIGINT, on_signal)
        while not stopping and all(process.poll() is None for process in cluster.processes):
            time.sleep(0.5)
    finally:
        cluster.stop()
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
