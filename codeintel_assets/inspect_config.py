"""The inspect plane's settings from the analysed repository: ``[tool.codeintel.inspect]`` in its pyproject.toml.

Keys are InspectConfig's fields (``resources/inspect.py``): ``allow``, ``deny``, ``default_deny``,
``probes``, ``python``, ``workers`` and the budgets. An unknown key or a wrong type is one clear error
naming the file, not a silently ignored setting.
"""

import tomllib
from pathlib import Path


def repository_inspect_config(root: str) -> dict:
    path = Path(root) / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc
    table = data.get("tool", {}).get("codeintel", {}).get("inspect", {})
    if not isinstance(table, dict):
        raise ValueError(f"{path}: [tool.codeintel.inspect] must be a table")
    from resources.inspect import InspectConfig
    known = set(InspectConfig.model_fields)
    unknown = sorted(set(table) - known)
    if unknown:
        raise ValueError(f"{path}: unknown key(s) in [tool.codeintel.inspect]: {', '.join(unknown)} "
                         f"(known: {', '.join(sorted(known))})")
    try:
        InspectConfig(**table)
    except Exception as exc:  # noqa: BLE001 - pydantic's validation error, one line
        raise ValueError(f"{path}: [tool.codeintel.inspect]: {str(exc).splitlines()[0:3]}") from exc
    return dict(table)
