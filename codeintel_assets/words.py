"""Counts in the messages people read: "1 file", "2 files" (no Dagster or DuckDB import: the CLI's no-work path
uses it)."""


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, the noun plural unless ``n`` is 1 (``plural``: an irregular one)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
