"""Market-data platform."""
