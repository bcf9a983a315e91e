"""Where the code base is and how files are read."""

from dagster import ConfigurableResource
from pydantic import Field

from codeintel_assets.extract.syntax import DEFAULT_MAX_FILE_BYTES


class RepoConfig(ConfigurableResource):
    """The repository being indexed; partition keys are paths relative to ``root``."""

    root: str = Field(description="Absolute path of the repository root.")
    max_file_bytes: int = Field(default=DEFAULT_MAX_FILE_BYTES, description="Files larger than this are failure rows.")
    workers: int = Field(default=0, description="Extraction worker processes (0 = one per CPU, 1 = in-process).")
    spool_dir: str = Field(default="", description="Directory for spilled Parquet parts (default: beside the database).")
    file_budget_seconds: float = Field(default=120.0, description="Wall-clock seconds one plane may spend on one "
                                                                   "file; over it, the file is a failure row (0: none).")
    scip_index: str = Field(default="", description="A SCIP index of the repository made by an external indexer "
                                                    "(relative to root; default: index.scip when it exists).")
    import_roots: list[str] = Field(default=[], description="Directories that are on sys.path when the code runs "
                                                           "(besides the detected ones: the repository root, src/).")
    exclude: list[str] = Field(default=[], description="Glob patterns of paths not indexed (`codeintel index --exclude`"
                                                      "), besides the repository's own: `exclude` in the "
                                                      "[tool.codeintel] table of its pyproject.toml.")
