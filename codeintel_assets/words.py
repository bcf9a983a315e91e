"""Counts in the messages people read: "1 file", "2 files" (no Dagster or DuckDB import: the CLI's no-work path
uses it)."""


def count(n: int, noun: str, plural: str | None = None, grouped: bool = False) -> str:
    """``n`` and ``noun``, the noun plural unless ``n`` is 1 (``plural``: an irregular one); ``grouped``: the
    thousands separated (1,726)."""
    return (f"{n:,}" if grouped else str(n)) + f" {noun if n == 1 else plural or noun + 's'}"
