"""placeholder: replaced by the products command module."""

import typer


def register(app: typer.Typer) -> None:
    @app.command("products")
    def _cmd() -> None:
        """Not written yet."""
        raise typer.Exit(3)
