"""placeholder: replaced by the position command module."""

import typer


def register(app: typer.Typer) -> None:
    @app.command("position")
    def _cmd() -> None:
        """Not written yet."""
        raise typer.Exit(3)
