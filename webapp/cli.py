"""The `sanxiang` console command: the engine's commands plus `serve`."""
from __future__ import annotations

import click

from workflows.cli import main

from . import create_app


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve(host, port):
    """Serve the web app on HOST:PORT."""
    create_app().run(host=host, port=port)


__all__ = ["main"]
