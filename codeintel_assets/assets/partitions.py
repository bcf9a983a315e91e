"""The one partitions definition: a dynamic partition per repository-relative file path."""

from dagster import DynamicPartitionsDefinition

FILES = DynamicPartitionsDefinition(name="files")
