"""History: the bars gate, daily bars and session analytics (no Dagster here)."""
