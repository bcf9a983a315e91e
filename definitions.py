"""The Dagster entry point (see workspace.yaml): assets, checks, sensor, jobs and resources.

Configured by environment: CODEINTEL_REPO (the code base, default: working directory),
CODEINTEL_DB (default: .codeintel/codeintel.duckdb), CODEINTEL_WORKERS.
"""

from codeintel_assets.assets import build_definitions

defs = build_definitions()
