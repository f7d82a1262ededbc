"""Yahoo chart adapter: parser on recorded payloads, the real HTTP client against a local server
serving those payloads and the faults real providers produce."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from marketdata_assets.execution.tick import TickFailed, run_tick
from marketdata_assets.providers.deadlines import transport
from marketdata_assets.providers.fetching import FetchPolicy, fetch_all
from marketdata_assets.providers.yahoo.quotes import (
    YahooProvider,
    build_requests,
    check_response,
    parse,
)
from marketdata_assets.settings import Settings
from marketdata_assets.tick.curation import curate, provider_errors, raw_records
from marketdata_tests.conftest import TICK
from marketdata_tests.provider_server import ProviderServer, envelopes, serving
from marketdata_tests.yahoo_charts import ChartServer, chart_answer

PAYLOADS = Path(__file__).with_name("payloads")
CHART = (PAYLOADS / "yahoo_chart_AAPL.json").read_text()
NOT_FOUND = (PAYLOADS / "yahoo_not_found.json").read_text()
FAST = FetchPolicy(request_timeout_s=0.5, deadline_s=20, max_attempts=3, backoff_base_s=0.01)


def chart_for(symbol: str) -> str:
    return CHART.replace('"AAPL"', f'"{symbol}"')


@pytest.fixture
def yahoo(monkeypatch: pytest.MonkeyPatch) -> Iterator[ProviderServer]:
    server = ProviderServer(lambda path, _: path.rsplit("/", 1)[-1], chart_for)
    with serving(server):
        monkeypatch.setenv("MARKETDATA_YAHOO_URL", server.url)
        yield server


@pytest.fixture
def settings(tmp_path, yahoo: ProviderServer) -> Settings:
    """The test folder's settings; Yahoo's URL read from the environment, as a deployment's."""
    return Settings(data_dir=tmp_path / "data", providers=Settings.from_env().providers)


def url() -> str:
    """Yahoo's URL as the settings read it from the environment."""
    return str(Settings.from_env().providers.yahoo.url)


@pytest.mark.domain
def test_parser_maps_the_chart_meta_onto_the_quote_fields() -> None:
    assert parse(CHART) == {
        "symbol": "AAPL",
        "price": 229.87,
        "day_volume": 31254870,  # meta.regularMarketVolume: the session's, cumulative
        "currency": "USD",
        "event_ts": "2025-11-25T14:31:05+00:00",
        "exchange": "NMS",
        "exchange_tz": "America/New_York",
        "trading_day": "2025-11-25",
    }
    assert parse(NOT_FOUND) is None
    assert parse('{"chart": {"result": [{"meta"') is None


def _meta(**changes: object) -> str:
    chart = json.loads(CHART)
    chart["chart"]["result"][0]["meta"].update(changes)
    return json.dumps(chart)


@pytest.mark.domain
@pytest.mark.parametrize(
    ("epoch", "zone", "trading_day"),
    [
        (1764115200, "America/New_York", "2025-11-25"),  # 00:00Z on the 26th: 19:00 in New York
        (1764115200, "Asia/Tokyo", "2025-11-26"),
        (1764115200, "Not/A_Zone", None),
        (1764115200, None, None),
        (None, "America/New_York", None),
    ],
)
def test_the_trading_day_is_the_market_time_s_date_in_the_exchange_zone(
    epoch: object, zone: object, trading_day: str | None
) -> None:
    record = parse(_meta(regularMarketTime=epoch, exchangeTimezoneName=zone))
    assert record is not None and record["trading_day"] == trading_day


@pytest.mark.domain
def test_a_minute_s_volume_never_stands_in_for_the_day_s() -> None:
    chart = json.loads(CHART)
    del chart["chart"]["result"][0]["meta"]["regularMarketVolume"]
    record = parse(json.dumps(chart))
    assert record is not None and record["day_volume"] is None
    assert chart["chart"]["result"][0]["indicators"]["quote"][0]["volume"][0] == 120450


@pytest.mark.domain
def test_curated_yahoo_rows_carry_the_exchange_zone_and_trading_day() -> None:
    at = {"provider": "yahoo", "symbol": "AAPL", "status": 200, "at": "2025-11-25T14:31:06Z"}
    curated = curate((json.dumps({"fetch": at, "body": CHART}) + "\n").encode(), TICK)
    row = curated.iloc[0]
    assert (row["day_volume"], row["exchange"], row["exchange_tz"]) == (
        31254870,
        "NMS",
        "America/New_York",
    )
    assert row["trading_day"].date().isoformat() == "2025-11-25"


@pytest.mark.system
def test_clean_answers_land_verbatim_and_curate_to_one_row_each(yahoo: ProviderServer) -> None:
    payload = YahooProvider(["AAPL", "MSFT"], FAST, base_url=url()).fetch(TICK)
    lines = envelopes(payload)
    assert lines["AAPL"]["body"] == CHART  # exactly as received
    assert lines["AAPL"]["fetch"] == {
        "provider": "yahoo", "symbol": "AAPL", "attempts": 1, "status": 200,
        "at": lines["AAPL"]["fetch"]["at"],
    }  # fmt: skip
    curated = curate(payload, TICK)
    assert curated["symbol"].tolist() == ["AAPL", "MSFT"]
    assert curated["price"].tolist() == [229.87, 229.87]


@pytest.mark.domain
def test_a_tick_asks_for_its_minute_and_the_one_before_not_the_day() -> None:
    (request,) = build_requests(["AAPL"], "https://yahoo.test/", TICK)
    epoch = int(TICK.timestamp())
    assert request.url == "https://yahoo.test/v8/finance/chart/AAPL"
    assert request.params == {
        "period1": str(epoch - 60),
        "period2": str(epoch + 60),
        "interval": "1m",
    }  # no `range`: the day's bars are the history job's
    late = TICK.replace(second=42)  # a tick is a minute: its seconds never move the window
    assert build_requests(["AAPL"], "https://yahoo.test", late)[0].params == request.params


@pytest.mark.system
def test_a_tick_lands_the_minute_s_bars_only_a_small_share_of_the_day_s_bytes() -> None:
    close = datetime(2026, 11, 25, 20, 59, tzinfo=UTC)  # 15:59 in New York: 390 bars since the open
    with serving(ChartServer(close)) as server:
        payload = YahooProvider(["AAPL"], FAST, base_url=server.url).fetch(close)
        day = chart_answer("AAPL", {"range": "1d", "interval": "1m"}, close)
    (line,) = envelopes(payload).values()
    result = json.loads(line["body"])["chart"]["result"][0]
    epoch = int(close.timestamp())
    assert result["timestamp"] == [epoch - 60, epoch]  # the minute before and the tick's own
    assert len(json.loads(day)["chart"]["result"][0]["timestamp"]) == 390
    assert len(line["body"]) * 10 < len(day)  # ~1 KB against ~21 KB a symbol
    assert parse(line["body"]) == parse(day)  # the same quote either way


@pytest.mark.system
def test_rate_limits_and_server_errors_are_retried(yahoo: ProviderServer) -> None:
    yahoo.answers["AAPL"] = [(429, "slow down", 0, False), (503, "<html>busy</html>", 0, False),
                             (200, CHART, 0, False)]  # fmt: skip
    lines = envelopes(YahooProvider(["AAPL"], FAST, base_url=url()).fetch(TICK))
    assert yahoo.requests == ["AAPL"] * 3
    assert lines["AAPL"]["fetch"]["attempts"] == 3 and "error" not in lines["AAPL"]["fetch"]


@pytest.mark.system
@pytest.mark.parametrize(
    ("answer", "kind", "tries"),
    [
        ((404, NOT_FOUND, 0, False), "UnknownSymbol", 1),
        ((400, "bad request", 0, False), "ClientError", 1),
        ((500, "oops", 0, False), "ServerError", 3),
        ((200, CHART[: len(CHART) // 2], 0, False), "MalformedJson", 3),
        ((200, "<html><body>Will be right back</body></html>", 0, False), "HtmlPage", 3),
        ((200, CHART, 1.0, False), "Timeout", 3),
        ((200, CHART, 0, True), "Timeout", 3),
    ],
)
def test_failures_become_typed_error_entries_retried_only_when_it_can_help(
    yahoo: ProviderServer, answer: tuple, kind: str, tries: int
) -> None:
    yahoo.answers["BAD"] = [answer]
    payload = YahooProvider(["BAD", "AAPL"], FAST, base_url=url()).fetch(TICK)
    lines = envelopes(payload)
    assert lines["BAD"]["fetch"]["error"].startswith(f"{kind}:")
    assert yahoo.requests.count("BAD") == lines["BAD"]["fetch"]["attempts"] == tries
    assert "error" not in lines["AAPL"]["fetch"]  # the tick goes on for the others
    assert provider_errors(payload) == 1 and len(list(raw_records(payload))) == 1


@pytest.mark.system
def test_the_deadline_stops_fetching_and_every_symbol_is_still_accounted_for(
    yahoo: ProviderServer,
) -> None:
    symbols = [f"S{i}" for i in range(8)]
    for symbol in symbols:
        yahoo.answers[symbol] = [(200, chart_for(symbol), 0.4, False)]
    policy = FetchPolicy(
        request_timeout_s=0.3, deadline_s=1.0, max_attempts=3, backoff_base_s=0.01, workers=1
    )
    lines = envelopes(YahooProvider(symbols, policy, base_url=url()).fetch(TICK))
    assert sorted(lines) == sorted(symbols)  # nothing lost
    assert all("error" in line["fetch"] for line in lines.values())
    late = [
        line for line in lines.values() if line["fetch"]["error"].startswith("DeadlineExceeded")
    ]
    assert late and all(line["fetch"]["attempts"] == 0 for line in late)  # never requested
    assert len(yahoo.requests) < len(symbols) * policy.max_attempts


@pytest.mark.system
def test_a_tick_with_some_failed_symbols_counts_them_and_goes_on(
    yahoo: ProviderServer, settings
) -> None:
    yahoo.answers["GONE"] = [(404, NOT_FOUND, 0, False)]
    settings = settings.with_overrides(provider="yahoo", symbols=("AAPL", "GONE", "MSFT"))
    summary = run_tick(settings, TICK)
    assert (summary.raw, summary.provider_errors) == (2, 1)
    assert summary.raw == summary.validated + summary.quarantined


@pytest.mark.system
def test_a_tick_where_every_symbol_fails_lands_raw_and_fails(
    yahoo: ProviderServer, settings
) -> None:
    from marketdata_assets.definitions import lake_store
    from marketdata_assets.lake import object_key
    from marketdata_assets.lake.codecs import unpacked

    yahoo.answers["AAPL"] = [(404, NOT_FOUND, 0, False)]
    settings = settings.with_overrides(provider="yahoo", symbols=("AAPL",))
    with pytest.raises(TickFailed, match="tick 2026-11-25T14:31Z failed"):
        run_tick(settings, TICK)
    landed = unpacked(object_key("raw", TICK), lake_store(settings).get(object_key("raw", TICK)))
    assert envelopes(landed)["AAPL"]["body"] == NOT_FOUND
    assert lake_store(settings).keys("curated/") == []


def _fetch_aapl(server: ProviderServer, policy: FetchPolicy, **options) -> dict:
    with httpx.Client(transport=transport()) as client:
        requests = build_requests(["AAPL"], server.url, TICK)
        return envelopes(fetch_all("yahoo", requests, check_response, policy, client, **options))


@pytest.mark.system
def test_retry_pauses_are_full_jitter_exponential_and_the_budget_is_asked_before_each(
    yahoo: ProviderServer,
) -> None:
    yahoo.answers["AAPL"] = [(503, "busy", 0, False)]
    pauses: list[float] = []
    asked: list[int] = []
    policy = FetchPolicy(max_attempts=4, backoff_base_s=0.5, backoff_max_s=0.75)
    line = _fetch_aapl(
        yahoo, policy, sleep=pauses.append, may_retry=lambda: asked.append(1) or True
    )["AAPL"]
    assert line["fetch"]["error"].startswith("ServerError:") and line["fetch"]["attempts"] == 4
    assert len(pauses) == len(asked) == 3 == len(yahoo.requests) - 1
    caps = [0.5, 0.75, 0.75]  # min(max, base * 2 ** retry)
    assert all(0 <= pause <= cap for pause, cap in zip(pauses, caps, strict=True))


@pytest.mark.system
def test_no_retry_is_started_whose_pause_would_reach_the_tick_deadline(
    yahoo: ProviderServer,
) -> None:
    now = [0.0]  # a clock that only the pauses move

    def sleep(seconds: float) -> None:
        now[0] += seconds

    yahoo.answers["AAPL"] = [(503, "busy", 0, False)]
    policy = FetchPolicy(deadline_s=1.0, max_attempts=100, backoff_base_s=0.8, backoff_max_s=0.8)
    line = _fetch_aapl(yahoo, policy, sleep=sleep, clock=lambda: now[0])["AAPL"]
    assert line["fetch"]["error"].startswith("ServerError:")  # the last answer, not a deadline
    assert now[0] < policy.deadline_s and 1 <= line["fetch"]["attempts"] < policy.max_attempts
    assert line["fetch"]["attempts"] == len(yahoo.requests)
