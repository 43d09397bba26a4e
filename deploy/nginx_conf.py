"""nginx's configuration for the cluster, from deploy/nginx.conf.template: the Rasa servers as one upstream,
consistent hash on the conversation key (sender id / WeChat openid), fail-over to the next server.

Usage: python -m deploy.nginx_conf --listen 80 --server rasa-1:5005 --server rasa-2:5005 \
           --prefix /var/lib/nginx/cluster --logs /var/log/nginx > nginx.conf
(deploy/docker-compose.yml does this in its nginx container; deploy/cluster.py calls render() directly.)
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"


def render(servers: list[str], listen: str, prefix: Path | str, logs: Path | str, conf: Path | str = "") -> str:
    """The configuration text; `servers` are host:port of the Rasa servers, `prefix` holds the pid file and the
    temporary files, `logs` the access and error logs, `conf` is where the text will be written (a comment)."""
    if not servers:
        raise ValueError("at least one Rasa server is needed")
    upstreams = "\n".join(f"        server {server} max_fails=1 fail_timeout=10s;" for server in servers)
    text = TEMPLATE.read_text()
    for field, value in {"PREFIX": str(prefix), "CONF": str(conf or f"{prefix}/nginx.conf"), "LOGS": str(logs),
                         "RASA_SERVERS": upstreams, "LISTEN": listen}.items():
        text = text.replace("{{" + field + "}}", value)
    unfilled = re.findall(r"{{\w+}}", text)
    if unfilled:
        raise ValueError(f"unfilled fields in {TEMPLATE}: {unfilled}")
    return text


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", action="append", required=True, help="host:port of a Rasa server (repeat)")
    parser.add_argument("--listen", default="80", help="nginx's listen address (default 80)")
    parser.add_argument("--prefix", required=True, help="folder for the pid file and temporary files")
    parser.add_argument("--logs", required=True, help="folder for nginx-access.log and nginx-error.log")
    args = parser.parse_args(argv)
    sys.stdout.write(render(args.server, args.listen, args.prefix, args.logs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
