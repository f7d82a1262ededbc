"""Corporate actions as the dashboard reads them: a symbol's gated actions (`marketdata actions
--json`) and the rows the actions gate refused, each answer kept while the sessions held are
unchanged (the session objects themselves kept decoded by the reader's `SessionObjects`)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from marketdata_assets.lake import ObjectStore
    from marketdata_assets.web.kept import Kept
    from marketdata_assets.web.sessions import SessionObjects


class Actions:
    """The reads of corporate actions over a reader's lake, session objects and history cache
    (`Reader.actions`)."""

    def __init__(self, lake: ObjectStore, sessions: SessionObjects, kept: Kept):
        self.lake, self.sessions, self._kept = lake, sessions, kept

    def of(
        self, symbol: str, first: date | None, last: date | None
    ) -> tuple[list[dict[str, object]], str]:
        """`marketdata actions SYMBOL --json`'s objects with an ex-date from `first` to `last`
        (each open when None), and what an empty answer says (why, and what to run)."""
        held = self.sessions.held("corporate_actions")
        return self._kept.get(
            ("actions", symbol, first, last, held), lambda: self._of(symbol, first, last)
        )

    def _of(
        self, symbol: str, first: date | None, last: date | None
    ) -> tuple[list[dict[str, object]], str]:
        from marketdata_assets.history.adjusted import actions_frame, actions_rows
        from marketdata_assets.history.held import span
        from marketdata_assets.history.intervals import DEFAULT_SESSIONS
        from marketdata_assets.market.backfill_range import suggested

        rows = actions_rows(actions_frame(self.lake, symbol, first, last, self.sessions))
        if rows:
            return rows, ""
        if not self.sessions.keys("corporate_actions"):
            start, end = span([], first, last, DEFAULT_SESSIONS)
            return [], (
                f"no corporate actions for {symbol}: no session of history is held yet; run "
                f"`{suggested(start, end, (symbol,))}`"
            )
        if first is None and last is None:
            return [], f"no corporate actions for {symbol} in the lake"
        asked = f"{first or 'the first session held'} to {last or 'the latest held'}"
        return [], f"no corporate actions for {symbol} with an ex-date from {asked}"

    def quarantined(
        self,
        first: date | None,
        last: date | None,
        symbol: str | None,
        reason: str | None,
        limit: int,
    ) -> tuple[list[dict[str, object]], str]:
        """The rows the actions gate refused (`history.quarantined_actions`), newest session
        first, of `symbol` and `reason` (None: any), at most `limit`; and what an empty answer
        says."""
        from marketdata_assets.history.quarantine_rows import matching
        from marketdata_assets.history.quarantined_actions import quarantined_actions, what_to_run

        def read() -> tuple[list[dict[str, object]], str, str]:
            answer = quarantined_actions(self.lake, first, last, self.sessions)
            return answer.rows, what_to_run(answer), f"{answer.first}..{answer.last}"

        held = self.sessions.held("actions_quarantine")
        answer = self._kept.get(("actions_quarantine", first, last, held), read)
        return matching(answer, symbol, reason, limit, "corporate actions")
