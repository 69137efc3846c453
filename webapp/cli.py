"""The `sanxiang` console command: the engine's commands plus `serve`."""
from __future__ import annotations

import click
import waitress

from workflows.cli import main
from workflows.settings import load_settings
from workflows.worker import start_sweeper_thread

from . import create_app


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--threads", default=8, show_default=True)
def serve(host, port, threads):
    """Serve the web app on HOST:PORT; on SQLite the timer sweeper runs in this process too."""
    settings = load_settings()
    if settings.is_sqlite:
        start_sweeper_thread(settings)
    click.echo(f"serving on http://{host}:{port}")
    waitress.serve(create_app(), host=host, port=port, threads=threads)


__all__ = ["main"]
