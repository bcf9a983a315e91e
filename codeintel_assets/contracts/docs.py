"""Render the contract tables as Markdown: `python -m codeintel_assets.contracts.docs > docs/tables.md`.

A test keeps docs/tables.md equal to this output, so the reference cannot drift from the code.
"""

from codeintel_assets.contracts.common import SCHEMA_VERSION, all_contracts


def plane_order() -> list[str]:
    """The plane registry's order (upstream first), then groups that are not planes (gates)."""
    from codeintel_assets.planes import planes
    return [p.name for p in planes()]


def render() -> str:
    out = [
        "# Tables reference",
        "",
        "Generated from `codeintel_assets/contracts/` by `python -m codeintel_assets.contracts.docs`;",
        "`tests/test_docs.py` fails when this file and the code disagree.",
        "",
        f"Every row carries `schema_version` (currently {SCHEMA_VERSION}); every per-file table carries `path`,",
        "the repository-relative POSIX path that is also the Dagster partition key. Byte spans",
        "(`span_start_byte` / `span_end_byte`) are offsets into the UTF-8 text of the file.",
        "Columns marked *generated* are ids that concatenate stored columns: DuckDB computes them",
        "(VIRTUAL generated columns), so they are queryable like any column but not stored twice.",
        "",
    ]
    order = plane_order()
    # groups that are not planes (gates, inspect, scip) after the planes, by name: the registry's order depends on
    # which module was imported first
    contracts = sorted(all_contracts(), key=lambda tc: (order.index(tc.plane), "") if tc.plane in order
                       else (len(order), tc.plane))
    plane = None
    for tc in contracts:
        if tc.plane != plane:
            plane = tc.plane
            out += [f"## {plane} plane", ""]
        out += [f"### `{tc.name}`", "", tc.description, "", f"Key: `({', '.join(tc.key)})`", "",
                "| column | type |", "|---|---|"]
        derived = dict(tc.derived)
        for f in tc.schema:
            note = f" — generated: `{derived[f.name]}`".replace("|", "\\|") if f.name in derived else ""
            out.append(f"| `{f.name}` | `{f.type}`{note} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render())
