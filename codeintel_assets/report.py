"""Whole-database gate report for `codeintel check` and CI: every gate over every file, JUnit XML."""

from xml.etree import ElementTree as ET

from codeintel_assets.validate import binder_completeness, binding_resolution, bytecode_gates, cfg_gates, symtable_vs_code
from codeintel_assets.validate.base import GateResult

CHUNK = 200


def run_all_gates(database: str) -> list[GateResult]:
    from codeintel_assets.assets.gates import run_chunked
    from resources.store import CodeIntelStore, table_exists

    store = CodeIntelStore(database=database)
    with store.connection(read_only=True) as conn:
        if not table_exists(conn, "py_files"):
            return []
        paths = [r[0] for r in conn.execute("SELECT path FROM py_files ORDER BY path").fetchall()]

        def rd(name, cols):
            return lambda ch: store.read(name, cols, ch, conn)

        def load(*readers):
            return lambda ch: tuple(r(ch) for r in readers)

        CU = rd("py_bc_code_units", ["path", "code_unit_id", "stacksize", "instruction_count"])
        BL = rd("py_bc_blocks", ["path", "code_unit_id", "block_id", "block_index", "start_offset", "is_entry",
                                 "is_exit", "is_loop_header", "is_dead", "first_instr_index", "last_instr_index"])
        ED = rd("py_bc_cfg_edges", ["code_unit_id", "src_block_id", "dst_block_id", "kind", "exc_entry_index", "depth", "lasti"])
        EX = rd("py_bc_exception_table", ["path", "code_unit_id", "exc_entry_index", "target_offset"])
        IN = rd("py_bc_instructions", ["code_unit_id", "instr_index", "opcode", "arg", "opname", "offset"])
        SJ = rd("py_bc_instructions", ["path", "code_unit_id", "instr_index", "opname", "span_start_byte",
                                       "span_end_byte", "ast_node_id"])
        IC = rd("py_bc_instructions", ["code_unit_id"])
        SSC = rd("py_sym_scopes", sorted(set(symtable_vs_code.SCOPE_COLUMNS) | set(binding_resolution.SCOPE_COLUMNS)))
        SSY = rd("py_sym_symbols", symtable_vs_code.SYMBOL_COLUMNS)
        SBI = rd("py_sym_bindings", sorted(set(symtable_vs_code.BINDING_COLUMNS) | set(binding_resolution.BINDING_COLUMNS)
                                           | set(binder_completeness.BINDING_COLUMNS)))
        SFP = rd("py_sym_function_partitions", symtable_vs_code.PARTITION_COLUMNS)
        SCU = rd("py_bc_code_units", symtable_vs_code.CODE_UNIT_COLUMNS)
        SED = rd("py_sym_resolution_edges", binding_resolution.EDGE_COLUMNS)
        SNS = rd("py_sym_name_sites", binder_completeness.SITE_COLUMNS)
        return [
            run_chunked(bytecode_gates.span_join, load(SJ), paths, CHUNK, bytecode_gates.span_join_finalize),
            run_chunked(bytecode_gates.instruction_conservation, load(CU, IC), paths, CHUNK),
            run_chunked(cfg_gates.cfg_entry_exit, load(CU, BL), paths, CHUNK),
            run_chunked(cfg_gates.cfg_reachability, load(BL, ED), paths, CHUNK),
            run_chunked(cfg_gates.exception_edges, load(EX, BL, ED), paths, CHUNK),
            run_chunked(cfg_gates.stack_depth, load(CU, IN, BL, ED), paths, CHUNK),
            run_chunked(symtable_vs_code.symtable_vs_code, load(SSC, SSY, SBI, SFP, SCU), paths, CHUNK),
            run_chunked(binding_resolution.binding_resolution, load(SSC, SBI, SED), paths, CHUNK),
            run_chunked(binder_completeness.binder_completeness, load(SBI, SNS), paths, CHUNK),
        ]


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
