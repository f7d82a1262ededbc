"""A local CSV or Parquet file of 1-minute bars, as a history source (no quotes)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from marketdata_assets.errors import ConfigError
from marketdata_assets.providers.spec import Build, History, VendorSpec

if TYPE_CHECKING:
    from marketdata_assets.providers.action_rows import ActionRow
    from marketdata_assets.providers.bars import BodyReading
    from marketdata_assets.providers.history import HistorySource

NAME = "file"


def _history(build: Build) -> HistorySource:
    from marketdata_assets.providers.file.history import FileHistory

    if not build.source:
        raise ConfigError("--source: the file history source needs a CSV or Parquet file")
    return FileHistory(build.source, first_session=build.first_session, actions=build.actions)


def _read(body: str, symbol: str, session: date, envelope: dict[str, Any]) -> BodyReading:
    from marketdata_assets.providers.file.history import read_body

    return read_body(body, symbol, session, envelope)


def _row_text(body: str, item: int) -> str:
    from marketdata_assets.providers.file.history import body_row_text

    return body_row_text(body, item)


def _actions(envelope: dict[str, Any], session: date) -> list[ActionRow]:
    from marketdata_assets.providers.file.actions import read_actions

    return read_actions(envelope, session)


def _action_text(envelope: dict[str, Any], item: int) -> str:
    from marketdata_assets.providers.file.actions import action_row_text

    return action_row_text(envelope, item)


SPEC = VendorSpec(
    name=NAME,
    summary="a local CSV or Parquet file of 1-minute bars (--source) and of actions (--actions)",
    history=History(
        build=_history,
        read=_read,
        row_text=_row_text,
        options=frozenset({"source", "actions"}),
        actions=_actions,
        action_text=_action_text,
    ),
)
