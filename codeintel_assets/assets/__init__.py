"""Dagster wiring. Only ``definitions.py`` and ``cli.py`` import from here."""

import os
from pathlib import Path

from dagster import Definitions

from codeintel_assets.assets.graph import GRAPH_ASSETS
from codeintel_assets.assets.inspect import INSPECT_ASSETS
from codeintel_assets.assets.jobs import index_files, inspect_files, link_repository, purge_files
from codeintel_assets.assets.link import LINK_ASSETS
from codeintel_assets.assets.planes import PLANE_ASSETS
from codeintel_assets.assets.scip import SCIP_ASSETS
from codeintel_assets.assets.sensors import repository_sensor
from resources.inspect import InspectConfig
from resources.repo import RepoConfig
from resources.store import CodeIntelStore

from codeintel_assets.paths import DEFAULT_DB, default_db  # noqa: F401 - re-exported


def build_definitions(repo_root: str | None = None, database: str | None = None, workers: int | None = None,
                      max_file_bytes: int | None = None, import_roots: list[str] | None = None,
                      file_budget_seconds: float | None = None, inspect: dict | None = None,
                      scip_index: str | None = None, exclude: list[str] | None = None) -> Definitions:
    """The one Definitions object; defaults come from CODEINTEL_REPO / CODEINTEL_DB / the working directory.

    ``inspect``: InspectConfig fields (from the repository's pyproject.toml and the command line); by
    default the repository's ``[tool.codeintel.inspect]`` table, so the UI shows what the CLI uses."""
    root = str(Path(repo_root or os.environ.get("CODEINTEL_REPO") or os.getcwd()).resolve())
    database = str(Path(database or default_db()).resolve())
    repo_kwargs = {"root": root}
    if workers is not None or os.environ.get("CODEINTEL_WORKERS"):
        repo_kwargs["workers"] = workers if workers is not None else int(os.environ["CODEINTEL_WORKERS"])
    if max_file_bytes is not None:
        repo_kwargs["max_file_bytes"] = max_file_bytes
    if file_budget_seconds is not None:
        repo_kwargs["file_budget_seconds"] = file_budget_seconds
    roots = import_roots if import_roots is not None else [r for r in os.environ.get("CODEINTEL_IMPORT_ROOTS", "").split(os.pathsep) if r]
    if roots:
        repo_kwargs["import_roots"] = list(roots)
    if exclude:
        repo_kwargs["exclude"] = list(exclude)
    scip = scip_index if scip_index is not None else os.environ.get("CODEINTEL_SCIP", "")
    if scip:
        repo_kwargs["scip_index"] = scip
    if inspect is None:
        from codeintel_assets.inspect_config import repository_inspect_config
        try:
            inspect = repository_inspect_config(root)
        except ValueError:
            inspect = {}  # the CLI reports a bad table; the UI starts with the defaults
    return Definitions(
        assets=[*PLANE_ASSETS, *SCIP_ASSETS, *LINK_ASSETS, *INSPECT_ASSETS, *GRAPH_ASSETS],
        jobs=[index_files, purge_files, inspect_files, link_repository],
        sensors=[repository_sensor],
        resources={
            "store": CodeIntelStore(database=database),
            "repo": RepoConfig(**repo_kwargs),
            "inspect_config": InspectConfig(**inspect),
        },
    )
