"""`rasa run` with its HTTP API token taken from the environment (RASA_AUTH_TOKEN), never from the command line,
where every local user could read it (`ps`, /proc/<pid>/cmdline).

Usage: RASA_AUTH_TOKEN=… python -m bot.rasa_run --model MODEL --port 5005 --enable-api …   (the arguments of
`rasa run`). Without the variable it refuses to start (exit status 2): the API would be open to anyone.
The calls to the action server keep their HTTP connections (bot/action_client.py).
"""
from __future__ import annotations

import os
import sys

TOKEN_VARIABLE = "RASA_AUTH_TOKEN"


def main(argv: list[str]) -> int:
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        print(f"cannot start: {TOKEN_VARIABLE} is not set (the token Rasa's HTTP API asks for)", file=sys.stderr)
        return 2
    # Rasa's own entry point parses sys.argv; changing it here does not change what `ps` shows. One argument with
    # "=": a token that starts with "-" (token_urlsafe makes some) is not taken for an option.
    sys.argv = ["rasa", "run", *argv, f"--auth-token={token}"]
    from rasa.__main__ import main as rasa_main

    from bot import action_client

    action_client.apply()
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
