"""The `sanxiang` console command: the engine's commands plus `serve`."""
from __future__ import annotations

import click

from workflows.cli import main
from workflows.settings import load_settings
from workflows.worker import start_sweeper_thread

from . import create_app


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve(host, port):
    """Serve the web app on HOST:PORT; on SQLite the timer sweeper runs in this process too."""
    settings = load_settings()
    if settings.is_sqlite:
        start_sweeper_thread(settings)
    create_app().run(host=host, port=port)


__all__ = ["main"]
