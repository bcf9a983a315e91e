"""The repository sensor: requests runs only for changed files, deletes removed partitions, purges rows."""

import duckdb
from dagster import DagsterInstance, build_sensor_context
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from codeintel_assets.assets import build_definitions
from codeintel_assets.assets.partitions import FILES
from codeintel_assets.assets.sensors import repository_sensor
from resources.repo import RepoConfig
from resources.store import CodeIntelStore


def _evaluate(instance, repo, db):
    """The tick as the sensor daemon evaluates it: entered with the resources' lifecycle, and through
    ``evaluate_tick``, which applies Dagster's own validation of the result (a tick that deletes and adds the
    same partition is refused there, not by calling the sensor function)."""
    with build_sensor_context(instance=instance, resources={"repo": RepoConfig(root=str(repo), workers=1),
                                                            "store": CodeIntelStore(database=str(db))}) as ctx:
        return repository_sensor.evaluate_tick(ctx)


def _apply(instance, result):
    """What the sensor daemon does with the dynamic-partition requests, in order."""
    for req in result.dynamic_partitions_requests:
        if type(req).__name__.startswith("Add"):
            instance.add_dynamic_partitions(req.partitions_def_name, [k for k in req.partition_keys
                                                                      if not instance.has_dynamic_partition(FILES.name, k)])
        else:
            for k in req.partition_keys:
                instance.delete_dynamic_partition(req.partitions_def_name, k)


def _launch(instance, repo, db, run_request):
    defs = build_definitions(str(repo), str(db), workers=1)
    job = defs.resolve_job_def(run_request.job_name)
    kwargs = {"run_config": run_request.run_config} if run_request.run_config else {}
    result = job.execute_in_process(instance=instance, tags=run_request.tags, raise_on_error=True, **kwargs)
    assert result.success


def test_sensor_reconciles_changes(tiny_repo, codeintel_env):
    db = codeintel_env["db"]
    instance = DagsterInstance.get()

    first = _evaluate(instance, tiny_repo, db)
    _apply(instance, first)
    assert [r.job_name for r in first.run_requests] == ["index_files"]
    tags = first.run_requests[0].tags
    assert (tags[ASSET_PARTITION_RANGE_START_TAG], tags[ASSET_PARTITION_RANGE_END_TAG]) == ("pkg/__init__.py", "top.py")
    _launch(instance, tiny_repo, db, first.run_requests[0])

    # Nothing changed: the sensor skips.
    again = _evaluate(instance, tiny_repo, db)
    assert not again.run_requests and "nothing changed" in again.skip_message

    # The first file changed (not the last partition: before, the sensor moved it to the tail, deleting and
    # adding it in one tick, and Dagster refused every such tick), one deleted, one added: one index run per
    # contiguous range of the work, one purge run; no partition moves.
    order = list(instance.get_dynamic_partitions(FILES.name))
    assert order[0] == "pkg/__init__.py" and order[-1] == "top.py" and len(order) > 3
    (tiny_repo / "pkg/__init__.py").write_text("A = 1\n")
    (tiny_repo / "top.py").unlink()
    (tiny_repo / "zz_new.py").write_text("B = 2\n")
    res = _evaluate(instance, tiny_repo, db)
    _apply(instance, res)
    assert sorted(r.job_name for r in res.run_requests) == ["index_files", "index_files", "purge_files"]
    ranges = sorted((r.tags[ASSET_PARTITION_RANGE_START_TAG], r.tags[ASSET_PARTITION_RANGE_END_TAG])
                    for r in res.run_requests if r.job_name == "index_files")
    assert ranges == [("pkg/__init__.py", "pkg/__init__.py"), ("zz_new.py", "zz_new.py")]
    assert list(instance.get_dynamic_partitions(FILES.name)) == [k for k in order if k != "top.py"] + ["zz_new.py"]
    for r in sorted(res.run_requests, key=lambda r: r.job_name != "purge_files"):
        _launch(instance, tiny_repo, db, r)
    with duckdb.connect(str(db), config={"custom_user_agent": "dagster"}) as c:
        assert c.execute("select count(*) from py_bc_instructions where path = 'top.py'").fetchall() == [(0,)]
        assert c.execute("select count(*) from py_files where path = 'top.py'").fetchall() == [(0,)]
        assert c.execute("select count(*) from py_ast_nodes where path = 'pkg/__init__.py' and kind = 'Assign'").fetchall() == [(1,)]
        assert c.execute("select count(*) from py_files where path = 'zz_new.py'").fetchall() == [(1,)]
    assert "nothing changed" in _evaluate(instance, tiny_repo, db).skip_message


def test_range_tags_are_dagsters():
    """The sensor spells Dagster's partition-range run tags out (public surface only); this fails
    loudly if Dagster renames them."""
    from codeintel_assets import paths
    assert (paths.ASSET_PARTITION_RANGE_START_TAG, paths.ASSET_PARTITION_RANGE_END_TAG) == \
        (ASSET_PARTITION_RANGE_START_TAG, ASSET_PARTITION_RANGE_END_TAG)


def test_tail_plan_moves_only_what_breaks_the_range():
    from codeintel_assets.paths import tail_plan
    order = ["a", "b", "c", "d", "e"]
    # Everything changed (--full): nothing moves, the range is the whole order.
    assert tail_plan(order, ["a", "b", "c", "d", "e"], []) == ([], [], 0)
    # The tail changed: it stays; the new file is appended after it.
    assert tail_plan(order, ["d", "e"], ["f"]) == ([], ["f"], 3)
    # A file in the middle changed: it moves to the tail (deleted, appended with the new ones).
    assert tail_plan(order, ["b", "e"], ["aa"]) == (["b"], ["aa", "b"], 3)
    # Order after the move: a c d e aa b -> the work (e, aa, b) starts at index 3.
    new = [k for k in order if k != "b"] + ["aa", "b"]
    assert sorted(new[3:]) == ["aa", "b", "e"]
    assert tail_plan(order, [], []) == ([], [], 5)


def test_work_ranges_are_the_changed_and_added_keys_in_order_without_moves():
    from codeintel_assets.paths import work_ranges
    order = ["a", "b", "c", "d", "e"]
    assert work_ranges(order, [], ["b", "c", "e"], ["f"]) == (["f"], [["b", "c"], ["e", "f"]])
    assert work_ranges(order, ["c"], ["b", "d"], []) == ([], [["b", "d"]])  # c leaves: b and d are adjacent
    assert work_ranges(order, [], [], ["a"]) == ([], [["a"]])  # a partition whose rows are missing: no re-add
    assert work_ranges(order, [], [], []) == ([], [])


def test_sensor_links_again_when_no_file_changed_but_the_call_graph_is_stale(tmp_path, codeintel_env):
    """From the UI alone: a deleted file's purge leaves the other files' calls into it in the call graph, and an
    extension module added beside the source changes what its importers import. Neither changes a file to
    index; the sensor now requests the link job, once per state (the same run key on every tick until it runs),
    and the graph is the files' again after it. Before, the sensor skipped with "nothing changed"."""
    import shutil
    from tests.conftest import write_repo
    from tests.test_cpg_graph import _an_extension_module_file
    db = codeintel_env["db"]
    repo = write_repo(tmp_path / "repo", {"pkg/__init__.py": "", "pkg/a.py": "def f():\n    return 1\n",
                                          "pkg/b.py": "from pkg.a import f\n\n\ndef g():\n    return f()\n"})
    instance = DagsterInstance.get()

    def calls():
        with duckdb.connect(str(db), read_only=True) as c:
            return c.execute("SELECT caller_qualname, callee_qualname, rule FROM cpg_calls ORDER BY ALL").fetchall()
    first = _evaluate(instance, repo, db)
    _apply(instance, first)
    for r in first.run_requests:
        _launch(instance, repo, db, r)
    assert calls() == [("pkg.b.g", "pkg.a.f", "import")]
    assert "nothing changed" in _evaluate(instance, repo, db).skip_message

    (repo / "pkg" / "a.py").unlink()
    purge = _evaluate(instance, repo, db)
    _apply(instance, purge)
    assert [r.job_name for r in purge.run_requests] == ["purge_files"]
    _launch(instance, repo, db, purge.run_requests[0])
    assert calls() == [("pkg.b.g", "pkg.a.f", "import")]  # the purge alone leaves b's call into the deleted file
    link, again = _evaluate(instance, repo, db), _evaluate(instance, repo, db)
    assert [r.job_name for r in link.run_requests] == ["link_repository"]
    assert link.run_requests[0].run_key == again.run_requests[0].run_key and "files to link again" in link.run_requests[0].run_key
    _launch(instance, repo, db, link.run_requests[0])
    assert calls() == []
    assert "nothing changed" in _evaluate(instance, repo, db).skip_message

    ext = _an_extension_module_file()
    shutil.copy(ext, repo / "pkg" / ext.name)
    link = _evaluate(instance, repo, db)
    assert [r.job_name for r in link.run_requests] == ["link_repository"], link.skip_message
    assert "extension modules" in link.run_requests[0].run_key
    _launch(instance, repo, db, link.run_requests[0])
    with duckdb.connect(str(db), read_only=True) as c:
        assert c.execute("SELECT module_name, kind FROM cpg_link_sourceless").fetchall() == [
            (f"pkg.{ext.name.split('.')[0]}", "extension")]
    assert "nothing changed" in _evaluate(instance, repo, db).skip_message
