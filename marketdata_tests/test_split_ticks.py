"""A tick on a split's ex-date at the post-split price is validated and reaches the latest table
(issue 24, item 5), end to end through `run_tick` on the stub, on the local lake and on S3 with
DynamoDB (moto): the stub's AAPL splits 4:1 on 2026-12-02 (its prices step down from that
session's open). With the split in that session's corporate_actions object the first tick of
the session is validated and a later tick is not divided again; without it the shift is
unannounced and waits for the level-shift confirmations, as before. And the change on the
ex-date is measured against the adjusted previous close."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from marketdata_assets.execution.tick import TickSummary, run_tick
from marketdata_assets.history.change import change_of
from marketdata_assets.lake import day_key, object_key
from marketdata_assets.lake.codecs import decode, encode
from marketdata_assets.lake.datasets import DATASETS
from marketdata_assets.latest import LatestPrice
from marketdata_assets.providers.stub.market import price_at
from marketdata_assets.settings import Settings, StorageSettings
from marketdata_assets.stores import lake_store, latest_store
from marketdata_assets.web.app import create_app
from marketdata_tests.conftest import create_lake_and_table
from marketdata_tests.test_change_basis import daily

EX_DATE, BEFORE = date(2026, 12, 2), date(2026, 12, 1)
EVENING = datetime(2026, 12, 1, 20, 59, tzinfo=UTC)  # 15:59 New York, the session before
OPENED = datetime(2026, 12, 2, 14, 31, tzinfo=UTC)  # 09:31 New York, the ex-date
MINUTE = timedelta(minutes=1)
SYMBOLS = ("AAPL", "MSFT")
SEED = 7


def actions_of(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    """A corporate_actions object's rows, all with ex-date EX_DATE."""
    frame = pd.DataFrame(
        {
            "symbol": [r[0] for r in rows],
            "ex_date": [pd.Timestamp(EX_DATE)] * len(rows),
            "kind": [r[1] for r in rows],
            "value": [r[2] for r in rows],
            "currency": ["USD"] * len(rows),
            "source": ["stub"] * len(rows),
            "ingested_at": [pd.Timestamp("2026-12-02 21:00", tz="UTC")] * len(rows),
        }
    )
    return frame.astype(DATASETS["corporate_actions"].dtypes)


def announce(settings: Settings) -> None:
    """The ex-date's gated actions: AAPL's split (and a dividend, which leaves the gate alone)."""
    frame = actions_of([("AAPL", "split", 4.0), ("MSFT", "dividend", 0.94)])
    lake_store(settings).put(
        day_key("corporate_actions", EX_DATE), encode("corporate_actions", frame)
    )


def tick(settings: Settings, at: datetime) -> TickSummary:
    return run_tick(settings, at)


def stub(symbol: str, at: datetime) -> float:
    """The stub's price of `symbol` at minute `at` (the default seed)."""
    return price_at(symbol, at, SEED)


def latest_aapl(settings: Settings) -> float:
    return next(p.price for p in latest_store(settings).all() if p.symbol == "AAPL")


def reference_price(settings: Settings, at: datetime, symbol: str) -> float:
    frame = decode("reference", lake_store(settings).get(object_key("reference", at)))
    assert isinstance(frame, pd.DataFrame)
    return float(frame.loc[frame["symbol"] == symbol, "price"].iloc[0])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", symbols=SYMBOLS, seed=SEED, log_level="CRITICAL")


@pytest.fixture(params=["local", "aws"])
def profile(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """The local lake and SQLite, or the aws profile on moto (S3 and DynamoDB)."""
    if request.param == "local":
        yield request.getfixturevalue("settings")
        return
    request.getfixturevalue("aws_credentials")
    from moto import mock_aws

    with mock_aws():
        create_lake_and_table("lake", "latest")
        yield Settings(
            profile="aws", bucket="lake", table="latest", data_dir=tmp_path, symbols=SYMBOLS,
            seed=SEED, log_level="CRITICAL",
        )  # fmt: skip


@pytest.mark.graph
def test_a_post_split_tick_on_the_ex_date_is_validated_and_reaches_the_latest_table(
    profile: Settings,
) -> None:
    settings = profile
    announce(settings)
    before, after = stub("AAPL", EVENING), stub("AAPL", OPENED)
    assert after < before / 3  # the stub's AAPL trades at a quarter from the ex-date's open
    assert (tick(settings, EVENING).validated, latest_aapl(settings)) == (2, before)

    first = tick(settings, OPENED)
    assert (first.validated, first.quarantined, first.reasons) == (2, 0, {})
    assert latest_aapl(settings) == after
    assert reference_price(settings, OPENED, "AAPL") == after
    # MSFT's dividend leaves its reference as it was; its price was judged against it.
    assert reference_price(settings, OPENED, "MSFT") == stub("MSFT", OPENED)

    # The next ticks of the session are judged against the post-split reference as it is:
    # divided again (a quarter of a quarter), AAPL's price would be a jump.
    for k in (1, 2):
        later = tick(settings, OPENED + k * MINUTE)
        assert (later.validated, later.quarantined) == (2, 0)
        assert latest_aapl(settings) == stub("AAPL", OPENED + k * MINUTE)


@pytest.mark.graph
def test_an_unannounced_split_still_waits_for_the_level_shift_confirmations(
    settings: Settings,
) -> None:
    before = stub("AAPL", EVENING)
    tick(settings, EVENING)
    verdicts = []
    for k in range(3):  # MARKETDATA_JUMP_CONFIRMATIONS: 3 by default
        summary = tick(settings, OPENED + k * MINUTE)
        verdicts.append((summary.validated, summary.reasons.get("price_jump", 0)))
        if k < 2:
            assert latest_aapl(settings) == before  # the pre-split price stays in the table
    assert verdicts == [(1, 1), (1, 1), (2, 0)]
    assert latest_aapl(settings) == stub("AAPL", OPENED + 2 * MINUTE)


@pytest.mark.domain
def test_the_change_on_the_ex_date_is_against_the_split_adjusted_previous_close() -> None:
    closes = {BEFORE: {"AAPL": 250.35, "MSFT": 378.0}}
    splits = {EX_DATE: {"AAPL": 4.0}}

    def on(session: date) -> dict[str, float]:
        return closes.get(session, {})

    def split(session: date) -> dict[str, float]:
        return splits.get(session, {})

    aapl = change_of("AAPL", 62.49, OPENED, on, split)
    assert (aapl.previous_close, aapl.basis, aapl.split) == (250.35 / 4, BEFORE, 4.0)
    assert aapl.change_pct == pytest.approx(100 * (62.49 / 62.5875 - 1))
    msft = change_of("MSFT", 380.0, OPENED, on, split)  # no split of MSFT: the close as it was
    assert (msft.previous_close, msft.split) == (378.0, None)
    # The session after the ex-date compares with the ex-date's own close: nothing to divide.
    closes[EX_DATE] = {"AAPL": 62.58}
    next_day = change_of("AAPL", 63.5, OPENED + timedelta(days=1), on, split)
    assert (next_day.previous_close, next_day.basis, next_day.split) == (62.58, EX_DATE, None)


@pytest.mark.graph
def test_api_latest_and_quote_on_the_ex_date_use_the_adjusted_previous_close(
    tmp_path: Path,
) -> None:
    storage = StorageSettings(data_dir=tmp_path)
    lake = lake_store(storage)
    lake.put(
        day_key("daily_bars", BEFORE),
        encode("daily_bars", daily(BEFORE, {"AAPL": 250.35, "MSFT": 378.0})),
    )
    frame = actions_of([("AAPL", "split", 4.0), ("MSFT", "dividend", 0.94)])
    lake.put(day_key("corporate_actions", EX_DATE), encode("corporate_actions", frame))
    latest_store(storage).upsert(
        [
            LatestPrice("AAPL", 62.49, "USD", OPENED, OPENED),
            LatestPrice("MSFT", 380.0, "USD", OPENED, OPENED),
        ]
    )
    with TestClient(create_app(storage, clock=lambda: OPENED + MINUTE)) as client:
        rows = {row["symbol"]: row for row in client.get("/api/latest").json()}
        quote = client.get("/api/quote/AAPL").json()
    aapl = rows["AAPL"]
    assert (aapl["previous_close"], aapl["previous_close_split"]) == (62.5875, 4.0)
    assert aapl["change_basis"] == "2026-12-01"  # the session whose close it is, adjusted
    assert aapl["change_pct"] == pytest.approx(100 * (62.49 / 62.5875 - 1))
    # A dividend is not taken out of a quote's change.
    assert (rows["MSFT"]["previous_close"], rows["MSFT"]["previous_close_split"]) == (378.0, None)
    assert rows["MSFT"]["change"] == pytest.approx(2.0)
    fields = ("previous_close", "previous_close_split", "previous_session", "change", "change_pct")
    assert [quote[k] for k in fields] == [aapl[k] for k in fields[:2]] + [
        "2026-12-01",
        aapl["change"],
        aapl["change_pct"],
    ]
