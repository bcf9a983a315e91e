"""Per-file gate results: what each gate found in each file, so that a check judges the table, not the run."""

import pyarrow as pa

from codeintel_assets.contracts.common import b, define, i32, i64, s, str_list

CODEINTEL_GATE_RESULTS = define("codeintel_gate_results", "gates", [
    ("file_id", s), ("gate", s), ("plane", s), ("guarded_table", s), ("blocking", b), ("passed", b),
    ("metrics", pa.map_(s, i64)), ("finding_count", i32), ("findings", str_list),
], key=("path", "gate"), description="One row per (file, gate): the gate's verdict on that file, its additive figures "
                                      "and its first findings. Asset checks and `codeintel check` aggregate these rows "
                                      "over the whole database.")
