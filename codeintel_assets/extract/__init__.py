"""Pure extractors: source text -> contract rows. Nothing here knows about Dagster."""
