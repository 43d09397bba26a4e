"""Our static files (bot/web/static) as HTTP responses, with the headers every page of ours carries."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
# Our own pages load nothing but their own files (no inline script); widget.js and widget.css are also loaded by
# other sites. No page of ours may be framed (clickjacking of the console).
PAGE_POLICY = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"


def static_file(name: str) -> web.Response:
    """The file `name` under bot/web/static (404 when it is not there, e.g. a vendored script not yet fetched)."""
    path = STATIC / name
    headers = {"Cache-Control": "no-cache"}
    if path.suffix == ".html":
        headers["Content-Security-Policy"] = PAGE_POLICY
    return web.Response(body=_read(path), content_type=CONTENT_TYPES[path.suffix], charset="utf-8", headers=headers)


@lru_cache(maxsize=None)
def _read(path: Path) -> bytes:
    """A static file's bytes, read once per process (widget.js is fetched by every visitor of a site)."""
    if not path.is_file():
        raise web.HTTPNotFound()
    return path.read_bytes()
