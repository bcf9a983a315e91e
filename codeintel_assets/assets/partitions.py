"""The one partitions definition: a dynamic partition per repository-relative file path."""

from dagster import DynamicPartitionsDefinition

from codeintel_assets.paths import FILES_PARTITIONS

FILES = DynamicPartitionsDefinition(name=FILES_PARTITIONS)
