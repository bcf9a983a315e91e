"""Materialise the plane assets through a real Dagster instance into a real DuckDB file."""

import duckdb
from dagster import AssetKey, DagsterInstance

from codeintel_assets.assets import build_definitions
from codeintel_assets.assets.partitions import FILES
from codeintel_assets.paths import range_tags
from codeintel_assets.pipeline import pass_tables
from codeintel_assets.planes import gates

TABLES = [tc.name for tc in pass_tables()]


def _run(repo, db, keys, instance):
    defs = build_definitions(str(repo), str(db), workers=1)
    job = defs.resolve_job_def("index_files")
    return job.execute_in_process(instance=instance, tags=range_tags(keys[0], keys[-1]), raise_on_error=False)


def _rows(db, sql):
    with duckdb.connect(str(db), config={"custom_user_agent": "dagster"}) as c:
        return c.execute(sql).fetchall()


def test_materialise_range_into_duckdb_and_read_checks(tiny_repo, codeintel_env):
    db = codeintel_env["db"]
    instance = DagsterInstance.get()
    keys = ["pkg/__init__.py", "pkg/bad.py", "pkg/good.py", "top.py"]
    instance.add_dynamic_partitions(FILES.name, keys)
    result = _run(tiny_repo, db, keys, instance)
    assert result.success

    # Every contract table of these planes exists, even the ones this input leaves empty for a file.
    for t in TABLES:
        assert _rows(db, f"select count(*) from information_schema.tables where table_name = '{t}'") == [(1,)]
    files = dict(_rows(db, "select path, ok from py_files"))
    assert files == {"pkg/__init__.py": True, "pkg/bad.py": False, "pkg/good.py": True, "top.py": True}
    assert _rows(db, "select error_type, error_lineno from py_files where path = 'pkg/bad.py'") == [("SyntaxError", 1)]
    # The bad file has no bytecode rows but a compile-status row; the others were indexed.
    assert _rows(db, "select count(*) from py_bc_instructions where path = 'pkg/bad.py'") == [(0,)]
    assert _rows(db, "select compile_ok from codeintel_run_meta where path = 'pkg/bad.py'") == [(False,)]
    units = {r for r in _rows(db, "select qualpath, module_name from py_bc_code_units where path = 'pkg/good.py'")}
    assert units == {("<module>", "pkg.good"), ("f", "pkg.good"), ("C", "pkg.good"), ("C::m", "pkg.good")}
    assert _rows(db, "select path, module_name from py_files order by path") == [
        ("pkg/__init__.py", "pkg"), ("pkg/bad.py", "pkg.bad"), ("pkg/good.py", "pkg.good"), ("top.py", "top")]
    # Every plane has a status row per file; the bad file's planes say where it failed.
    for status in ("py_files", "codeintel_run_meta", "py_bc_cfg_files", "py_sym_files", "py_dfg_files"):
        assert _rows(db, f"select count(*) from {status}") == [(4,)], status
    assert _rows(db, "select ok, error_stage from py_bc_cfg_files where path = 'pkg/bad.py'") == [(False, "upstream")]
    assert _rows(db, "select ok, error_stage from py_dfg_files where path = 'pkg/bad.py'") == [(False, "upstream")]
    assert _rows(db, "select count(*) from py_bc_cfg_edges where path = 'pkg/good.py' and kind = 'exc'")[0][0] > 0

    # The crosswalk: every code unit of a compiled file names its symtable scope, and that scope exists.
    assert _rows(db, "select count(*) from py_bc_code_units where scope_id is null") == [(0,)]
    assert _rows(db, "select count(*) from py_bc_code_units u left join py_sym_scopes s using (scope_id) "
                     "where s.scope_id is null") == [(0,)]
    assert _rows(db, "select s.scope_type from py_bc_code_units u join py_sym_scopes s using (scope_id) "
                     "where u.qualpath = 'C::m' and u.path = 'pkg/good.py'") == [("FUNCTION",)]

    # Check results as Dagster recorded them.
    evals = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evals) == {"files_ok", "span_join", "instruction_conservation", "cfg_entry_exit",
                          "cfg_reachability", "exception_edges", "stack_depth",
                          "symtable_vs_code", "binding_resolution", "binder_completeness", "same_file_id",
                          "defuse_binding_space", "dfg_sanity", "scip_ingest", "cpg_integrity"}
    # + the graph's, over the database, and the SCIP ingest's (a warning; this repository has no index)
    assert set(evals) - {"cpg_integrity", "scip_ingest"} == {g.name for _, g in gates()}
    assert evals["scip_ingest"].passed and evals["scip_ingest"].metadata["index"].value == "absent"
    assert evals["cpg_integrity"].passed and evals["cpg_integrity"].metadata["checked"].value == "whole database"
    # One stored gate row per (file, plane gate): the plane checks are aggregated from them.
    assert _rows(db, "select count(*) from codeintel_gate_results") == [(4 * len(gates()),)]
    assert all(evals[n].passed for n in evals if n != "files_ok")
    assert not evals["files_ok"].passed and evals["files_ok"].severity.value == "WARN"
    assert "pkg/bad.py" in evals["files_ok"].metadata["first_findings"].value
    assert evals["instruction_conservation"].metadata["stored_rows"].value == \
        _rows(db, "select count(*) from py_bc_instructions")[0][0]

    # Per-partition materialisation status is recorded for every file and every table.
    for t in TABLES:
        assert instance.get_materialized_partitions(AssetKey(t)) == set(keys), t

    # The dataflow plane's run figures, in its status table's materialisation metadata.
    mats = [m for m in result.get_asset_materialization_events() if m.asset_key == AssetKey("py_dfg_files")]
    meta = mats[0].materialization.metadata
    assert "run_metadata_error" not in meta, meta.get("run_metadata_error")
    assert meta["unmodelled_instructions_in_run"].value == 0
    assert meta["classifier_fallback_hits_in_run"].value == "none"
    uses = _rows(db, "select count(*) from py_bc_defuse_events where event_kind = 'USE_SLOT'")[0][0]
    assert meta["slot_uses_in_run"].value == uses > 0
    assert meta["reaching_defs_per_reached_use_in_run"].value >= 1.0
    # The classifier is an unpartitioned asset, materialised by the same run.
    assert _rows(db, "select count(*) from py_bc_op_classifier where baseopname = 'LOAD_FAST_AND_CLEAR'") == [(1,)]
    assert instance.get_latest_materialization_event(AssetKey("py_bc_op_classifier")) is not None


def test_rematerialising_one_partition_replaces_only_its_rows(tiny_repo, codeintel_env):
    db = codeintel_env["db"]
    instance = DagsterInstance.get()
    keys = ["pkg/__init__.py", "pkg/bad.py", "pkg/good.py", "top.py"]
    instance.add_dynamic_partitions(FILES.name, keys)
    assert _run(tiny_repo, db, keys, instance).success
    before = dict(_rows(db, "select path, count(*) from py_bc_instructions group by path"))

    (tiny_repo / "top.py").write_text("print('hi')\nprint('again')\n")
    assert _run(tiny_repo, db, ["top.py"], instance).success
    after = dict(_rows(db, "select path, count(*) from py_bc_instructions group by path"))
    assert after["pkg/good.py"] == before["pkg/good.py"]
    assert after["pkg/__init__.py"] == before["pkg/__init__.py"]
    assert after["top.py"] > before["top.py"]
    # No duplicate rows for the re-materialised file.
    assert _rows(db, "select count(*) from py_files where path = 'top.py'") == [(1,)]


def test_empty_result_still_creates_and_clears_tables(tmp_path, codeintel_env):
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / "e.py").write_text("")
    db = codeintel_env["db"]
    instance = DagsterInstance.get()
    instance.add_dynamic_partitions(FILES.name, ["e.py"])
    assert _run(repo, db, ["e.py"], instance).success
    # An empty file: no exception entries, no tokens beyond ENCODING/NEWLINE/ENDMARKER, but tables exist.
    assert _rows(db, "select count(*) from py_bc_exception_table") == [(0,)]
    assert _rows(db, "select ok from py_files") == [(True,)]
    (repo / "e.py").write_text("try:\n    pass\nexcept Exception:\n    pass\n")
    assert _run(repo, db, ["e.py"], instance).success
    assert _rows(db, "select count(*) from py_bc_exception_table")[0][0] >= 1
    (repo / "e.py").write_text("")
    assert _run(repo, db, ["e.py"], instance).success
    assert _rows(db, "select count(*) from py_bc_exception_table") == [(0,)]


def test_generated_id_columns_equal_the_extractors_ids(tiny_repo, codeintel_env):
    """Derived ids are not stored; DuckDB's generated columns must reproduce the extractors' values."""
    from codeintel_assets.extract.bytecode import extract_bytecode
    from codeintel_assets.extract.syntax import extract_source, read_source

    db = codeintel_env["db"]
    instance = DagsterInstance.get()
    instance.add_dynamic_partitions(FILES.name, ["pkg/good.py"])
    assert _run(tiny_repo, db, ["pkg/good.py"], instance).success
    src = read_source(tiny_repo, "pkg/good.py")
    source, bc = extract_source(src), extract_bytecode(src)
    for table, column, expected in [("py_ast_nodes", "ast_node_id", source.ast_nodes),
                                    ("py_tokens", "token_id", source.tokens),
                                    ("py_bc_instructions", "instr_physical_id", bc.instructions)]:
        stored = {r[0] for r in _rows(db, f"select {column} from {table} where path = 'pkg/good.py'")}
        assert stored == set(expected.column(column).to_pylist()) and len(stored) == expected.num_rows, table
    # Joins through a generated id work like through a stored one.
    assert _rows(db, "select count(*) from py_bc_instructions i join py_ast_nodes n using (ast_node_id) "
                     "where i.path = 'pkg/good.py'")[0][0] == \
        _rows(db, "select count(*) from py_bc_instructions where path = 'pkg/good.py' and ast_node_id is not null")[0][0]


LOCK_PROBE = """
import sys
from codeintel_assets.locking import DatabaseBusy, hold
try:
    with hold(sys.argv[1], wait=False):
        pass
except DatabaseBusy:
    sys.exit(3)
import duckdb
duckdb.connect(sys.argv[1]).close()
"""


def test_a_run_holds_the_lock_and_one_connection_each_use_its_own_cursor(tmp_path, codeintel_env):
    """CodeIntelStore in a run (yield_for_execution): the writer lock and one open connection for the whole run;
    every connection() a cursor of it (the same database, its own temporary tables); both released at the end."""
    import subprocess
    import sys

    from dagster import OpExecutionContext, job, op

    from resources.store import CodeIntelStore
    db = str(tmp_path / "held.duckdb")
    seen = {}

    @op
    def probe(context: OpExecutionContext, store: CodeIntelStore):
        with store.connection() as a:
            a.execute("CREATE TEMP TABLE scratch AS SELECT 1 AS x").fetchall()
            a.execute("CREATE TABLE main.kept AS SELECT 42 AS v").fetchall()
        with store.connection(read_only=True) as b:
            seen["kept"] = b.execute("SELECT v FROM main.kept").fetchall()
            seen["temp"] = b.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchall()[0][0]
        seen["during"] = subprocess.run([sys.executable, "-c", LOCK_PROBE, db], capture_output=True).returncode

    @job(resource_defs={"store": CodeIntelStore(database=db)})
    def held():
        probe()

    assert held.execute_in_process(instance=DagsterInstance.get()).success
    assert seen["kept"] == [(42,)] and seen["temp"] == 0  # one database; no temporary table crosses uses
    assert seen["during"] == 3  # another process may not take the writer lock while the run holds it
    after = subprocess.run([sys.executable, "-c", LOCK_PROBE, db], capture_output=True, text=True)
    assert after.returncode == 0, after.stderr  # released: the lock, and DuckDB's own lock on the file


def test_materialising_every_file_partition_alone_keeps_the_call_graph(tiny_repo, codeintel_env):
    """The file planes' assets (and their checks) of every partition, selected alone as the UI's "Materialize"
    does: the link is not part of the run, so its tables keep their rows (before: a run over every stored file
    emptied them up front, for a link that never came, and every check still passed)."""
    db = codeintel_env["db"]
    instance = DagsterInstance.get()
    keys = ["pkg/__init__.py", "pkg/bad.py", "pkg/good.py", "top.py"]
    instance.add_dynamic_partitions(FILES.name, keys)
    assert _run(tiny_repo, db, keys, instance).success  # index_files: the file planes, the link, the graph
    calls = _rows(db, "select callsite_id, callee_qualname from cpg_calls order by all")
    assert len(calls) > 0
    defs = build_definitions(str(tiny_repo), str(db), workers=1)
    job = defs.resolve_implicit_global_asset_job_def()
    selection = [AssetKey(tc.name) for tc in pass_tables()] + [AssetKey("codeintel_gate_results")]
    result = job.get_subset(asset_selection=set(selection)).execute_in_process(
        instance=instance, tags=range_tags(keys[0], keys[-1]), raise_on_error=False)
    assert result.success
    assert "cpg_calls" not in {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
                               if e.asset_key is not None}  # the link did not run
    assert _rows(db, "select callsite_id, callee_qualname from cpg_calls order by all") == calls


def test_a_run_that_names_no_files_fails_saying_what_to_do(tiny_repo, codeintel_env):
    """index_files launched without a partition (the UI's Materialize with no files chosen): the step fails
    with one line saying how to choose files, not Dagster's "Cannot access partition_key for a non-partitioned
    run"; nothing is written."""
    db = codeintel_env["db"]
    instance = DagsterInstance.get()
    instance.add_dynamic_partitions(FILES.name, ["top.py"])
    job = build_definitions(str(tiny_repo), str(db), workers=1).resolve_job_def("index_files")
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "file_planes"
    message = failure.step_failure_data.user_failure_data.description
    assert message.startswith("file_planes: this run names no files.") and "`codeintel index`" in message, message
    assert "non-partitioned" not in failure.step_failure_data.error.message
    assert _rows(db, "select count(*) from information_schema.tables where table_name = 'py_files'") == [(0,)]
