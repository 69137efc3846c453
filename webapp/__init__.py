"""The web UI: a thin Flask layer over ``workflows``."""
from __future__ import annotations

from flask import Flask, jsonify

from workflows.settings import load_settings


def create_app(config: dict | None = None) -> Flask:
    """Build the app; ``config`` overrides settings (tests pass their own)."""
    settings = (config or {}).get("SANXIANG_SETTINGS") or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(SECRET_KEY=settings.secret_key, SANXIANG_SETTINGS=settings)
    app.config.update(config or {})

    @app.get("/health")
    def health():
        return jsonify(status="ok")

    return app
