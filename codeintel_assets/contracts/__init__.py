"""Pinned Arrow contracts: one module per plane, each a mapping table name -> pyarrow schema.

Every per-file table carries ``schema_version`` and ``path`` (the partition column).
"""

from codeintel_assets.contracts.common import SCHEMA_VERSION, TableContract, all_contracts, contract

__all__ = ["SCHEMA_VERSION", "TableContract", "all_contracts", "contract"]
