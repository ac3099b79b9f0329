"""The ``entitle`` command: a thin face over the engine.

Each command lives in its own module with a ``register(app)`` function; this module only builds
the Typer app and wires them. Bad input is printed as ``FILE:LINE: message`` and exits 2; a failure of the system
(disk, file system, database) is one line and exit 3.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperGroup

from entitle.cli import calc, decide, importing, ledger, position, products, serve
from entitle.cli.common import err_console, guard_commands, one_problem_line
from entitle.estate.files import FOLLOW_SYMLINKS


class OneLineErrors(TyperGroup):
    """The ``entitle`` group, whose usage errors (an option that is not a number, an unknown
    option, a missing argument) are one line — ``entitle calc: Invalid value for '--cores':
    ... (see entitle calc --help)`` — and exit 2, where Typer drew a box over three to five
    lines."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        run = (args, prog_name, complete_var, False, windows_expand_args)
        if not standalone_mode:
            return super().main(*run, **extra)
        try:
            code = super().main(*run, **extra)
        except NoArgsIsHelpError as error:  # `entitle` or `entitle ledger` alone: the help
            error.show()
            sys.exit(error.exit_code)
        except ClickException as error:
            context = getattr(error, "ctx", None)
            command = context.command_path if context is not None else "entitle"
            message = one_problem_line(error.format_message())
            err_console.print(
                f"{command}: {message} (see {command} --help)", markup=False, soft_wrap=True
            )
            sys.exit(error.exit_code)
        except typer.Abort:
            err_console.print("Aborted!", markup=False)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=OneLineErrors,
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
