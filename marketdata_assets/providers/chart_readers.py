"""The readers of chart-shaped envelopes (`providers.chart`, `providers.chart_events`) as a
vendor's `History` names them: the vendors whose history bodies are charts (Yahoo, the stub)
share them. Each imports its reader (numpy) when first called, so a vendor's spec stays light.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from marketdata_assets.providers.action_rows import ActionRow
    from marketdata_assets.providers.bars import BodyReading


def read(body: str, symbol: str, session: date, envelope: dict[str, Any]) -> BodyReading:
    """The bars of a chart body (`chart.read_chart`)."""
    from marketdata_assets.providers.chart import read_chart

    return read_chart(body, symbol, session, envelope)


def row_text(body: str, item: int) -> str:
    """One row of a chart body, as text (`chart.chart_row_text`)."""
    from marketdata_assets.providers.chart import chart_row_text

    return chart_row_text(body, item)


def actions(envelope: dict[str, Any], session: date) -> list[ActionRow]:
    """The corporate actions of a chart body's `events` (`chart_events.read_chart_events`)."""
    from marketdata_assets.providers.chart_events import read_chart_events

    return read_chart_events(envelope, session)


def action_text(envelope: dict[str, Any], item: int) -> str:
    """One action row of a chart body, as text (`chart_events.chart_event_text`)."""
    from marketdata_assets.providers.chart_events import chart_event_text

    return chart_event_text(envelope, item)
