"""placeholder: replaced by the calc command module."""

import typer


def register(app: typer.Typer) -> None:
    @app.command("calc")
    def _cmd() -> None:
        """Not written yet."""
        raise typer.Exit(3)
