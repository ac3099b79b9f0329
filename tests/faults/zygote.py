"""A worker that imports entitle once and then runs each command it is sent in a forked child
(the fault harness of ``kit.py``).

Forking a warm process makes a run cost the command's own time, not Python's start-up, so a test
can kill a command at every named fault point of its write path. A run is killed by the command
itself, at the Nth pass of a point (``ENTITLE_FAULT=NAME:N`` in its environment; see
``entitle.faults``), never by a timer. One JSON line in per run:
``{"argv": [...], "cwd": DIR, "env": {...}, "log": FILE, "passes": FILE, "no_exchange": BOOL}``;
one JSON line out: ``{"code": N or null, "signal": N or null}``. A run that ends writes the passes
of every fault point to ``passes`` (a killed one cannot). ``no_exchange`` makes an import swap its
estate by two renames, as where the system has no atomic exchange.
"""

from __future__ import annotations

import json
import os
import sys

# Imported before forking (the point of a zygote): the commands import these lazily.
import entitle.cli.main
import entitle.importers.merge
import entitle.ledger.audit
import entitle.ledger.importing
import entitle.ledger.moves
import entitle.ledger.query
import entitle.ledger.service
import entitle.reports.html
import entitle.reports.xlsx
from entitle import faults
from entitle.ledger import db

app = entitle.cli.main.app
db.head_revision()  # parses the migration scripts once


def child(order: dict) -> None:
    os.chdir(order["cwd"])
    os.environ.update(order.get("env", {}))
    if order.get("no_exchange"):
        entitle.importers.merge._exchange = lambda a, b: False  # type: ignore[assignment]
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
    with open(order["passes"], "w", encoding="utf-8") as fh:
        json.dump(faults.passes(), fh)
    os._exit(code)


def main() -> None:
    for line in sys.stdin:
        order = json.loads(line)
        pid = os.fork()
        if pid == 0:
            child(order)
        _, status = os.waitpid(pid, 0)
        report = {
            "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        }
        print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
