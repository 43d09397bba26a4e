"""Users of the operations console: argon2 password hashes, lock-out after repeated failures, sessions with a CSRF
token each. The session token is only ever stored hashed."""
from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.ops.store import OpsStore, sessions, users
from knowledge.bot_texts import say

ROLES = ("operator", "admin")
NAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
MIN_PASSWORD = 10
MAX_FAILURES = 5  # failed logins in a row before the account is locked
LOCK_SECONDS = 15 * 60
SESSION_SECONDS = 8 * 3600
HASHER = PasswordHasher()
DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))  # verified for unknown names, so they take as long


class AuthError(ValueError):
    """A refused login or user change, with the reason to show."""


@dataclass(frozen=True)
class Session:
    user: str
    role: str
    csrf: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(store: OpsStore, name: str, role: str, password: str) -> None:
    """Add a user (or set an existing user's role and password)."""
    if not NAME.match(name):
        raise AuthError(say("ops.bad_user_name"))
    if role not in ROLES:
        raise AuthError(say("ops.bad_role", roles=say("ops.role_separator").join(ROLES)))
    if len(password) < MIN_PASSWORD:
        raise AuthError(say("ops.password_too_short", length=MIN_PASSWORD))
    values = {"role": role, "password_hash": HASHER.hash(password), "failures": 0, "locked_until": 0}
    with store.engine.begin() as ops:
        if ops.execute(sa.update(users).where(users.c.name == name).values(**values)).rowcount == 0:
            ops.execute(sa.insert(users).values(name=name, created=time.time(), **values))


def remove_user(store: OpsStore, name: str) -> bool:
    with store.engine.begin() as ops:
        ops.execute(sa.delete(sessions).where(sessions.c.user == name))
        return ops.execute(sa.delete(users).where(users.c.name == name)).rowcount > 0


def list_users(store: OpsStore) -> list[dict[str, object]]:
    with store.engine.connect() as ops:
        return [{"name": row.name, "role": row.role, "created": row.created,
                 "locked": row.locked_until > time.time()}
                for row in ops.execute(sa.select(users).order_by(users.c.name))]


def login(store: OpsStore, name: str, password: str, now: float | None = None) -> tuple[str, Session]:
    """A new session token for a right name and password; AuthError otherwise (and for a locked account).
    MAX_FAILURES wrong passwords in a row lock the account for LOCK_SECONDS."""
    now = time.time() if now is None else now
    with store.engine.begin() as ops:
        row = ops.execute(sa.select(users).where(users.c.name == name)).first()
        refusal = _refusal(row, password, now)
        if refusal is not None:
            if row is not None and row.locked_until <= now:  # a wrong password: counted (committed on leaving)
                failures = row.failures + 1
                ops.execute(sa.update(users).where(users.c.name == name).values(
                    failures=0 if failures >= MAX_FAILURES else failures,
                    locked_until=now + LOCK_SECONDS if failures >= MAX_FAILURES else 0))
    if refusal is not None:
        raise AuthError(refusal)
    with store.engine.begin() as ops:
        ops.execute(sa.update(users).where(users.c.name == name).values(failures=0, locked_until=0))
        ops.execute(sa.delete(sessions).where(sessions.c.expires < now))
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        ops.execute(sa.insert(sessions).values(token_hash=_token_hash(token), user=name, csrf=csrf,
                                               expires=now + SESSION_SECONDS))
    return token, Session(name, row.role, csrf)


def _refusal(row: Any, password: str, now: float) -> str | None:
    """Why a login is refused (unknown name, locked account, wrong password), or None."""
    if row is None:
        _verify(DUMMY_HASH, password)
        return say("ops.wrong_login")
    if row.locked_until > now:
        return say("ops.locked")
    return None if _verify(row.password_hash, password) else say("ops.wrong_login")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def session(store: OpsStore, token: str | None) -> Session | None:
    """The session of a cookie's token, if it is valid and its user still exists."""
    if not token:
        return None
    with store.engine.connect() as ops:
        row = ops.execute(sa.select(sessions.c.user, sessions.c.csrf, users.c.role)
                          .join(users, users.c.name == sessions.c.user)
                          .where(sessions.c.token_hash == _token_hash(token), sessions.c.expires > time.time())
                          ).first()
    return Session(row.user, row.role, row.csrf) if row is not None else None


def logout(store: OpsStore, token: str) -> None:
    with store.engine.begin() as ops:
        ops.execute(sa.delete(sessions).where(sessions.c.token_hash == _token_hash(token)))
