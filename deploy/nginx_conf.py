"""nginx's configuration for the cluster, from deploy/nginx.conf.template: the channel webhooks to the Rasa servers
(consistent hash on the conversation key: sender id / WeChat openid; fail-over to the next server; the REST
channel rate-limited per client address), every other path to the web servers; Rasa's HTTP API is not proxied.

Usage: python -m deploy.nginx_conf --listen 80 --internal 8081 --server rasa-1:5005 --server rasa-2:5005 \
           --web web:8080 --prefix /var/lib/nginx/cluster --logs /var/log/nginx [--rest-rate 30r/s --rest-burst 60] > nginx.conf
(deploy/docker-compose.yml does this in its nginx container; deploy/cluster.py calls render() directly.)
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
REST_RATE = "30r/s"  # per client address; a person in a browser uses the widget, not the REST channel
REST_BURST = 60


def _upstreams(servers: list[str]) -> str:
    return "\n".join(f"        server {server} max_fails=1 fail_timeout=10s;" for server in servers)


def render(servers: list[str], listen: str, prefix: Path | str, logs: Path | str, conf: Path | str = "",
           web_servers: list[str] | None = None, internal: str = "", rest_rate: str = REST_RATE,
           rest_burst: int = REST_BURST) -> str:
    """The configuration text; `servers` are host:port of the Rasa servers, `web_servers` of the web servers,
    `listen` is the public address, `internal` the one the web servers reach the REST channel on, `prefix` holds the pid file and the temporary files, `logs` the access and error logs, `conf` is where the
    text will be written (a comment); `rest_rate` (nginx's rate, e.g. 30r/s) and `rest_burst` limit the REST
    channel per client address."""
    if not servers or not web_servers or not internal:
        raise ValueError("at least one Rasa server and one web server, and an internal address, are needed")
    if not re.fullmatch(r"\d+r/[sm]", rest_rate):
        raise ValueError(f"rest_rate {rest_rate!r} is not an nginx rate such as 30r/s")
    text = TEMPLATE.read_text()
    for field, value in {"PREFIX": str(prefix), "CONF": str(conf or f"{prefix}/nginx.conf"), "LOGS": str(logs),
                         "RASA_SERVERS": _upstreams(servers), "WEB_SERVERS": _upstreams(web_servers),
                         "LISTEN": listen, "INTERNAL_LISTEN": internal, "REST_RATE": rest_rate, "REST_BURST": str(rest_burst)}.items():
        text = text.replace("{{" + field + "}}", value)
    unfilled = re.findall(r"{{\w+}}", text)
    if unfilled:
        raise ValueError(f"unfilled fields in {TEMPLATE}: {unfilled}")
    return text


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", action="append", required=True, help="host:port of a Rasa server (repeat)")
    parser.add_argument("--web", action="append", required=True, help="host:port of a web server (repeat)")
    parser.add_argument("--listen", default="80", help="nginx's listen address (default 80)")
    parser.add_argument("--prefix", required=True, help="folder for the pid file and temporary files")
    parser.add_argument("--logs", required=True, help="folder for nginx-access.log and nginx-error.log")
    parser.add_argument("--internal", required=True, help="the address the web servers send /api/chat to")
    parser.add_argument("--rest-rate", default=REST_RATE, help=f"REST channel, per client address ({REST_RATE})")
    parser.add_argument("--rest-burst", type=int, default=REST_BURST, help=f"its burst ({REST_BURST})")
    args = parser.parse_args(argv)
    sys.stdout.write(render(args.server, args.listen, args.prefix, args.logs, web_servers=args.web,
                            internal=args.internal, rest_rate=args.rest_rate, rest_burst=args.rest_burst))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
