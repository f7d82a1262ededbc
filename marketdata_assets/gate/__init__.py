"""The quality gate: every curated row is routed to validated or to quarantine with reasons."""

from marketdata_assets.gate.routing import REASONS, Verdict, judge

__all__ = ["REASONS", "Verdict", "judge"]
