"""The thin Dagster layer: assets, checks, resources, IO managers, the job and its schedule."""
