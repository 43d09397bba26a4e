"""The action server: `python -m actions [--port 5055 …]` (rasa_sdk's options) serves the actions of this package,
once the knowledge base is known to be usable; else it says why in one line and exits with status 1."""
from __future__ import annotations

import sys

from rasa_sdk.__main__ import main_from_args
from rasa_sdk.endpoint import create_argument_parser

from actions.config import startup_problem


def main() -> int:
    problem = startup_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    parser = create_argument_parser()
    parser.set_defaults(actions="actions")
    main_from_args(parser.parse_args())
    return 0


if __name__ == "__main__":
    sys.exit(main())
