"""A worker that imports entitle once and then runs each command it is sent in a forked child,
killing the child with SIGKILL after a given delay (the fault harness of ``kit.py``).

Forking a warm process makes a run cost the command's own time, not Python's start-up, so a test
can kill dozens of runs at random points. One JSON line in per run:
``{"argv": [...], "cwd": DIR, "env": {...}, "kill_after": SECONDS or null, "log": FILE}``;
one JSON line out: ``{"code": N or null, "signal": N or null, "seconds": S}``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

# Imported before forking (the point of a zygote): the commands import these lazily.
import entitle.cli.main
import entitle.ledger.audit
import entitle.ledger.importing
import entitle.ledger.moves
import entitle.ledger.query
import entitle.ledger.service
import entitle.reports.html
import entitle.reports.xlsx
from entitle.ledger import db

app = entitle.cli.main.app
db.head_revision()  # parses the migration scripts once


def child(order: dict) -> None:
    os.chdir(order["cwd"])
    os.environ.update(order.get("env", {}))
    log = os.open(order["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    code = 0
    try:
        app(order["argv"], prog_name="entitle")
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 99
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main() -> None:
    for line in sys.stdin:
        order = json.loads(line)
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            child(order)
        delay = order.get("kill_after")
        if delay is not None:
            deadline = start + delay
            while time.monotonic() < deadline:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                time.sleep(min(0.002, max(0.0, deadline - time.monotonic())))
            else:
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
        else:
            _, status = os.waitpid(pid, 0)
        report = {
            "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "seconds": time.monotonic() - start,
        }
        print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
