"""The one list of gates: which stored columns each reads, and how it runs over many files.

Used by the plane assets (their asset checks, over the run's files) and by `codeintel check`
(over the whole database), so the two can never wire a gate differently.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from codeintel_assets.validate import binder_completeness, binding_resolution, bytecode_gates, cfg_gates, symtable_vs_code
from codeintel_assets.validate.base import GateResult

GATE_CHUNK_FILES = 200

_BLOCKS = ("py_bc_blocks", ("path", "code_unit_id", "block_id", "block_index", "start_offset", "is_entry", "is_exit",
                            "is_loop_header", "is_dead", "first_instr_index", "last_instr_index"))
_EDGES = ("py_bc_cfg_edges", ("code_unit_id", "src_block_id", "dst_block_id", "kind", "exc_entry_index", "depth", "lasti"))
_SYM_SCOPES = ("py_sym_scopes", tuple(sorted(set(symtable_vs_code.SCOPE_COLUMNS) | set(binding_resolution.SCOPE_COLUMNS))))
_SYM_BINDINGS = ("py_sym_bindings", tuple(sorted(set(symtable_vs_code.BINDING_COLUMNS) | set(binding_resolution.BINDING_COLUMNS)
                                                 | set(binder_completeness.BINDING_COLUMNS))))


@dataclass(frozen=True)
class GateSpec:
    plane: str
    gate: Callable[..., GateResult]
    inputs: tuple[tuple[str, tuple[str, ...]], ...]  # (table, columns) per positional argument
    finalize: Callable[[GateResult], GateResult] | None = None


GATES: list[GateSpec] = [
    GateSpec("bytecode", bytecode_gates.span_join,
             (("py_bc_instructions", ("path", "code_unit_id", "instr_index", "opname", "span_start_byte",
                                      "span_end_byte", "ast_node_id")),), bytecode_gates.span_join_finalize),
    GateSpec("bytecode", bytecode_gates.instruction_conservation,
             (("py_bc_code_units", ("path", "code_unit_id", "instruction_count")), ("py_bc_instructions", ("code_unit_id",)))),
    GateSpec("cfg", cfg_gates.cfg_entry_exit, (("py_bc_code_units", ("path", "code_unit_id")), _BLOCKS)),
    GateSpec("cfg", cfg_gates.cfg_reachability, (_BLOCKS, _EDGES)),
    GateSpec("cfg", cfg_gates.exception_edges,
             (("py_bc_exception_table", ("path", "code_unit_id", "exc_entry_index", "target_offset")), _BLOCKS, _EDGES)),
    GateSpec("cfg", cfg_gates.stack_depth,
             (("py_bc_code_units", ("path", "code_unit_id", "stacksize")),
              ("py_bc_instructions", ("code_unit_id", "instr_index", "opcode", "arg", "opname", "offset")), _BLOCKS, _EDGES)),
    GateSpec("symtable", symtable_vs_code.symtable_vs_code,
             (_SYM_SCOPES, ("py_sym_symbols", tuple(symtable_vs_code.SYMBOL_COLUMNS)), _SYM_BINDINGS,
              ("py_sym_function_partitions", tuple(symtable_vs_code.PARTITION_COLUMNS)),
              ("py_bc_code_units", tuple(symtable_vs_code.CODE_UNIT_COLUMNS)))),
    GateSpec("symtable", binding_resolution.binding_resolution,
             (_SYM_SCOPES, _SYM_BINDINGS, ("py_sym_resolution_edges", tuple(binding_resolution.EDGE_COLUMNS)))),
    GateSpec("symtable", binder_completeness.binder_completeness,
             (_SYM_BINDINGS, ("py_sym_name_sites", tuple(binder_completeness.SITE_COLUMNS)))),
]


def run_chunked(gate: Callable[..., GateResult], load: Callable[[Sequence[str]], tuple], paths: Sequence[str],
                chunk: int = GATE_CHUNK_FILES, finalize: Callable[[GateResult], GateResult] | None = None) -> GateResult:
    """Run an additive gate over chunks of files and merge: findings concatenated, counts summed."""
    merged: GateResult | None = None
    for i in range(0, max(len(paths), 1), chunk):
        r = gate(*load(paths[i:i + chunk]))
        if merged is None:
            merged = r
            continue
        metrics = dict(merged.metrics)
        for k, v in r.metrics.items():
            if isinstance(v, int) and not isinstance(v, bool) and isinstance(metrics.get(k), int):
                metrics[k] += v
        merged = GateResult(r.gate, r.table, merged.passed and r.passed, r.blocking,
                            merged.findings + r.findings, metrics, r.description)
    return finalize(merged) if finalize else merged


def run_gates(read: Callable[[str, Sequence[str], Sequence[str]], object], paths: Sequence[str],
              plane: str | None = None, chunk: int = GATE_CHUNK_FILES) -> Iterator[GateResult]:
    """Every gate (of ``plane``) over ``paths``; ``read(table, columns, paths)`` returns stored rows."""
    for spec in GATES:
        if plane is not None and spec.plane != plane:
            continue
        def load(ch, spec=spec):
            return tuple(read(table, list(cols), ch) for table, cols in spec.inputs)
        yield run_chunked(spec.gate, load, paths, chunk, spec.finalize)
