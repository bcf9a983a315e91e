"""The inspect sandbox's configuration: a typed Dagster resource (shown, with its defaults, in the UI).

Set from the analysed repository's ``pyproject.toml`` (``[tool.codeintel.inspect]``, same keys) and
the command line (``codeintel index --inspect --inspect-allow GLOB ...``); see docs/inspect.md.
"""

from dagster import ConfigurableResource
from pydantic import Field

from codeintel_assets.extract.inspect_sandbox import Budgets
from codeintel_assets.inspect_step import InspectSettings

_B = Budgets()


class InspectConfig(ConfigurableResource):
    """Which modules the inspect plane may import, with which interpreter, under which budgets."""

    python: str = Field(default="", description="Interpreter for the sandbox workers (default: CodeIntel's own). "
                                                "Point it at the project's virtualenv so its dependencies import.")
    allow: list[str] = Field(default=["*"], description="Module-name globs that may be imported.")
    deny: list[str] = Field(default=[], description="Module-name globs that are never imported (wins over allow).")
    default_deny: bool = Field(default=True, description="Also deny tests, scripts, __main__, setup and conftest "
                                                         "modules unless allow names them exactly.")
    probes: list[str] = Field(default=[], description="'module:qualname' of zero-argument generator / coroutine / "
                                                      "async-generator factories or callables to run for "
                                                      "py_inspect_runtime_state (they execute code).")
    env: dict[str, str] = Field(default={}, description="Environment variables set in every sandbox worker, whose "
                                                       "environment is otherwise built from scratch (e.g. "
                                                       "DJANGO_SETTINGS_MODULE); PYTHON* and the sandbox's own "
                                                       "(PATH, HOME, TMPDIR, LANG, LC_ALL) are refused.")
    setup: str = Field(default="", description="'module:qualname' of a callable each sandbox worker calls once, "
                                               "before its first module (e.g. 'django:setup'; it executes code).")
    workers: int = Field(default=0, description="Sandbox worker processes, each importing modules one at a time "
                                                "(0: one per CPU, at most 4).")
    timeout_seconds: float = Field(default=_B.timeout_seconds, description="Wall-clock seconds per module.")
    cpu_seconds: int = Field(default=_B.cpu_seconds, description="CPU seconds per module (RLIMIT_CPU).")
    memory_mb: int = Field(default=_B.memory_mb, description="Address space of a worker in MiB (RLIMIT_AS).")
    max_objects: int = Field(default=_B.max_objects, description="Objects visited per module.")
    max_members: int = Field(default=_B.max_members, description="Member rows per object.")
    max_unwrap_hops: int = Field(default=_B.max_unwrap_hops, description="__wrapped__ hops followed per callable.")
    max_result_bytes: int = Field(default=_B.max_result_bytes, description="Bytes of facts one module may return.")
    max_output_bytes: int = Field(default=_B.max_output_bytes, description="Bytes a module may print.")
    max_file_bytes: int = Field(default=_B.max_file_bytes, description="Largest file a module may write in its "
                                                                       "sandbox directory (RLIMIT_FSIZE).")
    min_signature_coverage: float = Field(default=0.9, description="inspect_quality: share of callables with a "
                                                                    "signature (raw or wrapped).")
    min_anchor_rate: float = Field(default=0.98, description="inspect_quality: share of objects with source in the "
                                                             "repository that are anchored to a def/class node.")
    min_import_success: float = Field(default=0.0, description="inspect_quality: share of attempted modules that "
                                                               "imported (it depends on the environment: 0 = "
                                                               "report only).")

    def settings(self) -> InspectSettings:
        budgets = Budgets(timeout_seconds=self.timeout_seconds, cpu_seconds=self.cpu_seconds, memory_mb=self.memory_mb,
                          max_objects=self.max_objects, max_members=self.max_members,
                          max_unwrap_hops=self.max_unwrap_hops, max_result_bytes=self.max_result_bytes,
                          max_output_bytes=self.max_output_bytes, max_file_bytes=self.max_file_bytes)
        return InspectSettings(python=self.python, allow=tuple(self.allow), deny=tuple(self.deny),
                               default_deny=self.default_deny, probes=tuple(self.probes), workers=self.workers,
                               budgets=budgets, env=tuple(sorted(self.env.items())), setup=self.setup)

    def thresholds(self) -> dict[str, float]:
        return {"signature_coverage": self.min_signature_coverage, "anchor_rate": self.min_anchor_rate,
                "import_success": self.min_import_success}
