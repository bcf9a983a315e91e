"""The repository-scope link step as a Dagster asset: ``cpg_calls`` (not partitioned), after the file planes."""

from dagster import AssetExecutionContext, MaterializeResult, asset

from codeintel_assets.contracts.cpg import CPG_CALLS
from resources.store import CodeIntelStore


@asset(name=CPG_CALLS.name, group_name="cpg", description=CPG_CALLS.description,
       deps=["cpg_call_sites", "cpg_definitions", "cpg_imports", "py_sym_name_sites"],
       metadata={"contract_key": ", ".join(CPG_CALLS.key), "dagster/table_name": f"main.{CPG_CALLS.name}",
                 "partitioned": False})
def cpg_calls_asset(context: AssetExecutionContext, store: CodeIntelStore) -> MaterializeResult:
    """Resolve every call site of the repository (SQL over the per-file tables, one transaction)."""
    from codeintel_assets.link import link_calls
    from codeintel_assets.locking import hold
    with hold(store.database, on_wait=context.log.info):
        with store.connection() as conn:
            figures = link_calls(conn)
    context.log.info(f"cpg_calls: {figures}")
    return MaterializeResult(metadata=figures)


LINK_ASSETS = [cpg_calls_asset]
