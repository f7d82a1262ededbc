"""Running the asset graph in-process: one tick, a backfill (the entry points' shared path)."""
