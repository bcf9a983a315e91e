"""Progress lines of the steps: the run's log (the UI's Runs tab), and stderr when the CLI asks for them
(``codeintel index`` without ``--quiet``; its ``--json`` line stays alone on stdout)."""

import os
import sys

PROGRESS_ENV = "CODEINTEL_PROGRESS"


def say(context, msg: str) -> None:
    context.log.info(msg)
    if os.environ.get(PROGRESS_ENV) == "1":
        print("  " + msg, file=sys.stderr, flush=True)
