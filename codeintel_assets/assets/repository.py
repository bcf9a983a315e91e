"""Importable twin of the top-level definitions.py, for the webserver started by `codeintel ui`."""

from codeintel_assets.assets import build_definitions

defs = build_definitions()
