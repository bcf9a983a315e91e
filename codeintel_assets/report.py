"""Whole-database gate report for `codeintel check` and CI: every gate over every file, JUnit XML."""

from xml.etree import ElementTree as ET

from codeintel_assets.validate.base import GateResult

CHUNK = 200


def run_all_gates(database: str) -> list[GateResult]:
    """Every gate of gate_plan.GATES over every file in the database (read-only)."""
    from codeintel_assets.gate_plan import run_gates
    from resources.store import CodeIntelStore, table_exists

    store = CodeIntelStore(database=database)
    with store.connection(read_only=True) as conn:
        if not table_exists(conn, "py_files"):
            return []
        paths = [r[0] for r in conn.execute("SELECT path FROM py_files ORDER BY path").fetchall()]
        return list(run_gates(lambda table, cols, ch: store.read(table, cols, ch, conn), paths, chunk=CHUNK))


def write_junit(results: list[GateResult], path: str) -> None:
    suite = ET.Element("testsuite", name="codeintel-gates", tests=str(len(results)),
                       failures=str(sum(not r.passed for r in results)))
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=f"codeintel.{r.table}", name=r.gate)
        props = ET.SubElement(case, "properties")
        for k, v in r.metrics.items():
            ET.SubElement(props, "property", name=k, value=str(v))
        if not r.passed:
            tag = "failure" if r.blocking else "skipped"
            el = ET.SubElement(case, tag, message=f"{len(r.findings)} findings", type=r.gate)
            el.text = "\n".join(f.describe() for f in r.findings[:200])
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
