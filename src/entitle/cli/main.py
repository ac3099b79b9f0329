"""The ``entitle`` command: a thin face over the engine.

Each command lives in its own module with a ``register(app)`` function; this module only builds
the Typer app and wires them. Bad input is printed as ``FILE:LINE: message`` and exits 2; a failure of the system
(disk, file system, database) is one line and exit 3.
"""

from __future__ import annotations

import typer

from entitle.cli import calc, decide, importing, ledger, position, products, serve
from entitle.cli.common import guard_commands
from entitle.estate.reader import FOLLOW_SYMLINKS

app = typer.Typer(
    name="entitle",
    help="Microsoft server licensing: what an estate needs, owns, and the cheapest way to comply.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def options(
    follow_symlinks: bool = typer.Option(
        False,
        "--follow-symlinks",
        help="Read estate files and import inputs that are symbolic links (refused otherwise).",
    ),
) -> None:
    """Microsoft server licensing: what an estate needs, owns, and the cheapest way to comply."""
    FOLLOW_SYMLINKS.set(follow_symlinks)


for module in (position, calc, products, ledger, importing, decide, serve):
    module.register(app)
# A full disk or an unreachable database is one line and exit 3, never a traceback (the web
# server reports its own failures).
guard_commands(app, skip=frozenset({"serve"}))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
