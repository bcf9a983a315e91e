"""Start the real Dagster webserver on a free loopback port against workspace.yaml; ask GraphQL."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, query: str) -> dict:
    req = urllib.request.Request(url, data=json.dumps({"query": query}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def test_webserver_serves_the_asset_graph(tmp_path, tiny_repo):
    port = _free_port()
    env = dict(os.environ, DAGSTER_HOME=str(tmp_path / "home"), CODEINTEL_DB=str(tmp_path / "ci.duckdb"),
               CODEINTEL_REPO=str(tiny_repo))
    sys.path.insert(0, str(REPO))
    from codeintel_assets.instance import prepare_home
    old = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    try:
        prepare_home()
    finally:
        if old is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = old
    webserver = Path(sys.executable).parent / "dagster-webserver"
    proc = subprocess.Popen([str(webserver), "-w", str(REPO / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(base + "/server_info", timeout=5) as r:
                    assert r.status == 200
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise AssertionError("webserver did not start: " + proc.stdout.read().decode()[-2000:])
                time.sleep(1)
        data = _post(base + "/graphql", """
            { assetNodes { assetKey { path } groupName isPartitioned
                           assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }""")
        nodes = {n["assetKey"]["path"][0]: n for n in data["data"]["assetNodes"]}
        for table, group in [("py_files", "source"), ("py_ast_nodes", "source"), ("py_tokens", "source"),
                             ("py_bc_code_units", "bytecode"), ("py_bc_instructions", "bytecode"),
                             ("py_bc_exception_table", "bytecode"), ("codeintel_run_meta", "bytecode"),
                             ("py_bc_blocks", "cfg"), ("py_bc_cfg_edges", "cfg")]:
            assert nodes[table]["groupName"] == group
            assert nodes[table]["isPartitioned"] is True
        checks = {c["name"]: c["blocking"] for c in nodes["py_bc_blocks"]["assetChecksOrError"]["checks"]}
        assert checks == {"cfg_entry_exit": True, "cfg_reachability": True, "stack_depth": True}
        # The inspect plane: its own group, partitioned per file, its gate on the status table, the run
        # metadata unpartitioned.
        inspect_tables = [k for k in nodes if k.startswith("py_inspect_")]
        assert len(inspect_tables) == 15 and all(nodes[k]["groupName"] == "inspect" for k in inspect_tables)
        assert nodes["py_inspect_run_meta"]["isPartitioned"] is False
        assert nodes["py_inspect_signatures"]["isPartitioned"] is True
        assert {c["name"] for c in nodes["py_inspect_import_attempts"]["assetChecksOrError"]["checks"]} \
            == {"inspect_quality"}
        jobs = _post(base + "/graphql", """
            { repositoriesOrError { ... on RepositoryConnection { nodes { jobs { name } sensors { name } } } } }""")
        repo = jobs["data"]["repositoriesOrError"]["nodes"][0]
        assert {"index_files", "purge_files", "inspect_files"} <= {j["name"] for j in repo["jobs"]}
        assert [s["name"] for s in repo["sensors"]] == ["repository_sensor"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
