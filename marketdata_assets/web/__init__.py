"""The dashboard: a read-only FastAPI app over the stores (`create_app`), and its static pages.

Neither Dagster nor Great Expectations is on this path.
"""
