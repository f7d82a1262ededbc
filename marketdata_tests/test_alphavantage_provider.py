"""Alpha Vantage adapter: the parser and error typing on recorded payloads, the real HTTP client
against a local server serving them and faults, the request budget, and the key never leaking."""

import gzip
import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest

from marketdata_assets.errors import ConfigError
from marketdata_assets.execution.tick import TickFailed, run_tick
from marketdata_assets.market.ticks import floor_minute
from marketdata_assets.operations.request_budget import (
    BudgetError,
    BudgetExhausted,
    FileRequestBudget,
    RequestBudget,
)
from marketdata_assets.providers.alphavantage.keys import api_key
from marketdata_assets.providers.alphavantage.quotes import (
    AlphaVantageProvider,
    check_response,
    parse,
)
from marketdata_assets.providers.fetching import Answer, FetchError, FetchPolicy
from marketdata_assets.settings import Settings
from marketdata_assets.tick.curation import curate, provider_errors, raw_records
from marketdata_tests.conftest import TICK
from marketdata_tests.provider_server import ProviderServer, envelopes, serving
from marketdata_tests.spellings import reveals

PAYLOADS = Path(__file__).with_name("payloads")
QUOTE = (PAYLOADS / "alphavantage_global_quote_IBM.json").read_text()
UNKNOWN = (PAYLOADS / "alphavantage_unknown_symbol.json").read_text()
ERROR_MESSAGE = (PAYLOADS / "alphavantage_error_message.json").read_text()
NOTE = (PAYLOADS / "alphavantage_note.json").read_text()
DAILY_LIMIT = (PAYLOADS / "alphavantage_daily_limit.json").read_text()  # echoes {apikey}
DEMO_KEY = (PAYLOADS / "alphavantage_demo_key.json").read_text()
KEY = "K3YS3CR3T0000042"
FAST = FetchPolicy(request_timeout_s=0.5, deadline_s=20, max_attempts=3, backoff_base_s=0.01)
TODAY = datetime.now(UTC).date
DAY = date(2026, 11, 25)  # the budget day of providers built by `av`


def av(
    symbols: list[str], budget: RequestBudget, policy: FetchPolicy = FAST
) -> AlphaVantageProvider:
    url = Settings.from_env().providers.alphavantage.url  # as a deployment's settings read it
    return AlphaVantageProvider(symbols, KEY, budget, policy, base_url=url, today=lambda: DAY)


def quote_for(symbol: str) -> str:
    return QUOTE.replace('"IBM"', f'"{symbol}"')


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ProviderServer]:
    provider = ProviderServer(lambda _, query: query.get("symbol", "?"), quote_for)
    with serving(provider):
        monkeypatch.setenv("MARKETDATA_ALPHAVANTAGE_URL", provider.url)
        monkeypatch.setenv("ALPHAVANTAGE_API_KEY", KEY)
        yield provider


@pytest.fixture
def settings(tmp_path: Path, server: ProviderServer) -> Settings:
    """The test folder's settings; the provider's URL read from the environment."""
    return Settings(data_dir=tmp_path / "data", providers=Settings.from_env().providers)


@pytest.fixture
def budget(tmp_path: Path) -> FileRequestBudget:
    return FileRequestBudget(tmp_path / "budget.json", "alphavantage", 25)


@pytest.mark.domain
def test_parser_maps_the_global_quote_onto_the_quote_fields() -> None:
    received = {"at": "2026-11-25T19:31:05.123Z"}
    assert parse(QUOTE, received) == {
        "symbol": "IBM",
        "price": "223.7300",
        "day_volume": "4212345",  # 06. volume: the latest trading day's, cumulative
        "currency": "USD",
        "event_ts": "2026-11-25T19:31:05.123000+00:00",
        "exchange": None,  # not in the body, and not guessed
        "exchange_tz": None,
        "trading_day": "2026-11-25",
    }
    assert parse(UNKNOWN, received) is None
    assert parse(QUOTE[: len(QUOTE) // 2], received) is None
    assert parse(DAILY_LIMIT, received) is None


@pytest.mark.domain
@pytest.mark.parametrize(
    ("trading_day", "received", "event_ts"),
    [
        ("2026-11-25", "2026-11-25T19:31:05Z", "2026-11-25T19:31:05+00:00"),  # in session
        ("2026-11-25", "2026-11-25T23:40:00Z", "2026-11-25T21:00:00+00:00"),  # after the close
        ("2026-11-24", "2026-11-25T14:31:00Z", "2026-11-24T21:00:00+00:00"),  # yesterday's quote
        ("2026-07-01", "2026-07-02T03:00:00Z", "2026-07-01T20:00:00+00:00"),  # EDT close
        ("not a day", "2026-11-25T19:31:05Z", None),
    ],
)
def test_event_ts_is_the_observation_time_capped_at_the_session_close(
    trading_day: str, received: str, event_ts: str | None
) -> None:
    body = QUOTE.replace("2026-11-25", trading_day)
    assert parse(body, {"at": received})["event_ts"] == event_ts  # type: ignore[index]


@pytest.mark.domain
def test_listings_outside_the_us_get_no_assumed_currency() -> None:
    at = {"at": "2026-11-25T19:31:05Z"}
    assert parse(QUOTE.replace('"IBM"', '"TSCO.LON"'), at)["currency"] is None  # type: ignore[index]
    assert parse(QUOTE.replace('"IBM"', '"BRK.B"'), at)["currency"] == "USD"  # type: ignore[index]


@pytest.mark.domain
@pytest.mark.parametrize(
    ("body", "kind", "says"),
    [
        (ERROR_MESSAGE, "InvalidRequest", "Invalid API call"),
        (NOTE, "RateLimited", "5 calls per minute"),
        (DAILY_LIMIT, "DailyLimit", "25 requests per day"),
        (DEMO_KEY, "Refused", "demo purposes only"),
        (UNKNOWN, "UnknownSymbol", "no quote"),
        ("[]", "UnexpectedBody", "not a JSON object"),
        ('{"Time Series (1min)": {}}', "UnexpectedBody", "no Global Quote"),
    ],
)
def test_http_200_error_bodies_become_typed_errors_that_are_not_retried(
    body: str, kind: str, says: str
) -> None:
    with pytest.raises(FetchError) as raised:
        check_response(Answer(200, body))
    assert raised.value.kind == kind and says in raised.value.detail
    assert not raised.value.retryable
    check_response(Answer(200, QUOTE))  # a quote passes


@pytest.mark.system
def test_clean_answers_land_verbatim_and_the_key_goes_only_on_the_wire(
    server: ProviderServer, budget: FileRequestBudget
) -> None:
    payload = av(["IBM", "MSFT"], budget).fetch(TICK)
    assert [q["apikey"] for q in server.queries] == [KEY, KEY]
    assert {q["function"] for q in server.queries} == {"GLOBAL_QUOTE"}
    lines = envelopes(payload)
    assert lines["IBM"]["body"] == QUOTE  # exactly as received
    assert KEY.encode() not in payload
    curated = curate(payload, TICK)
    assert curated["symbol"].tolist() == ["IBM", "MSFT"]
    assert curated["price"].tolist() == [223.73, 223.73]
    assert curated["day_volume"].tolist() == [4212345, 4212345]
    assert curated["trading_day"].dt.strftime("%Y-%m-%d").tolist() == ["2026-11-25"] * 2
    assert curated[["exchange", "exchange_tz"]].isna().all(axis=None)
    assert budget.used(DAY) == 2


@pytest.mark.system
def test_a_body_echoing_the_key_lands_redacted_and_spends_the_day(
    server: ProviderServer, budget: FileRequestBudget
) -> None:
    server.answers["IBM"] = [(200, DAILY_LIMIT, 0, False)]
    payload = av(["IBM", "MSFT"], budget).fetch(TICK)
    lines = envelopes(payload)
    assert KEY.encode() not in payload
    assert lines["IBM"]["fetch"]["redacted"] is True
    assert "[REDACTED]" in lines["IBM"]["body"]
    assert lines["IBM"]["fetch"]["error"].startswith("DailyLimit: We have detected")
    assert "error" not in lines["MSFT"]["fetch"]
    # The provider says the quota is spent: the next tick is refused before any request.
    assert budget.used(DAY) == budget.limit
    sent = len(server.requests)
    with pytest.raises(BudgetExhausted):
        av(["IBM"], budget).fetch(TICK)
    assert len(server.requests) == sent


@pytest.mark.system
@pytest.mark.parametrize(
    ("reply", "kind", "tries"),
    [
        ((200, NOTE, 0, False), "RateLimited", 1),
        ((200, ERROR_MESSAGE, 0, False), "InvalidRequest", 1),
        ((200, UNKNOWN, 0, False), "UnknownSymbol", 1),
        ((429, "Too Many Requests", 0, False), "RateLimited", 3),
        ((500, "oops", 0, False), "ServerError", 3),
        ((200, QUOTE[: len(QUOTE) // 2], 0, False), "MalformedJson", 3),
        ((502, "<html><body>Bad gateway</body></html>", 0, False), "ServerError", 3),
        ((200, "<html><body>Will be right back</body></html>", 0, False), "HtmlPage", 3),
        ((200, QUOTE, 1.0, False), "Timeout", 3),
        ((200, QUOTE, 0, True), "Timeout", 3),
    ],
)
def test_failures_are_typed_retried_only_when_it_can_help_and_every_try_is_counted(
    server: ProviderServer, budget: FileRequestBudget, reply: tuple, kind: str, tries: int
) -> None:
    server.answers["BAD"] = [reply]
    payload = av(["BAD", "IBM"], budget).fetch(TICK)
    lines = envelopes(payload)
    assert lines["BAD"]["fetch"]["error"].startswith(f"{kind}:")
    assert server.requests.count("BAD") == lines["BAD"]["fetch"]["attempts"] == tries
    assert "error" not in lines["IBM"]["fetch"]
    assert provider_errors(payload) == 1 and len(list(raw_records(payload))) == 1
    assert budget.used(DAY) == len(server.requests)  # retries are requests too
    assert KEY.encode() not in payload


@pytest.mark.system
def test_a_tick_that_would_overrun_the_budget_is_refused_before_any_request(
    server: ProviderServer, tmp_path: Path
) -> None:
    budget = FileRequestBudget(tmp_path / "budget.json", "alphavantage", 5)
    av(["IBM", "MSFT", "KO"], budget).fetch(TICK)
    with pytest.raises(BudgetExhausted, match="needs 3 requests but 2 of 5 are left for"):
        av(["IBM", "MSFT", "KO"], budget).fetch(TICK)
    assert len(server.requests) == 3 and budget.used(DAY) == 3


@pytest.mark.system
def test_retries_stop_when_the_budget_has_no_request_left(
    server: ProviderServer, tmp_path: Path
) -> None:
    budget = FileRequestBudget(tmp_path / "budget.json", "alphavantage", 2)
    server.answers["IBM"] = [(503, "busy", 0, False), (200, QUOTE, 0, False)]
    lines = envelopes(av(["IBM", "MSFT"], budget).fetch(TICK))
    assert lines["IBM"]["fetch"]["error"].startswith("ServerError:")
    assert lines["IBM"]["fetch"]["attempts"] == 1 and len(server.requests) == 2


@pytest.mark.system
def test_the_key_never_reaches_logs_the_lake_errors_or_the_run_record(
    server: ProviderServer, settings, caplog: pytest.LogCaptureFixture, capsys
) -> None:
    from dagster import DagsterInstance

    from marketdata_assets.definitions import configured_provider

    caplog.set_level(logging.DEBUG)
    server.answers["IBM"] = [(200, DAILY_LIMIT, 0, False)]
    server.answers["DOWN"] = [(500, "<html>down</html>", 0, False)]
    settings = settings.with_overrides(
        provider="alphavantage", symbols=("IBM", "MSFT", "DOWN"), log_level="DEBUG"
    )
    assert KEY not in repr(configured_provider(settings))
    with DagsterInstance.ephemeral() as instance:
        summary = run_tick(settings, TICK, instance)
        run_records = repr([instance.all_logs(run.run_id) for run in instance.get_runs()])
    assert (summary.raw, summary.provider_errors) == (1, 2)
    assert "HTTP Request: GET" in caplog.text  # httpx did log the requests it made
    assert KEY not in caplog.text and KEY not in run_records
    assert KEY not in "".join(capsys.readouterr())
    landed = [_read(path) for path in settings.data_dir.rglob("*") if path.is_file()]
    assert len(landed) >= 4 and not any(KEY.encode() in data for data in landed)

    with pytest.raises(TickFailed, match="request budget") as failed:  # the day is spent
        run_tick(settings, TICK)
    assert KEY not in str(failed.value)


@pytest.mark.system
def test_a_tick_over_the_budget_fails_with_the_reason_and_writes_nothing(
    server: ProviderServer, settings
) -> None:
    from marketdata_assets.definitions import lake_store
    from marketdata_assets.lake import object_key

    settings = settings.with_overrides(
        provider="alphavantage",
        symbols=("IBM", "MSFT"),
        providers={"alphavantage": {"daily_budget": 3}},
    )
    assert run_tick(settings, TICK).raw == 2
    with pytest.raises(TickFailed, match="needs 2 requests but 1 of 3 are left"):
        run_tick(settings, TICK.replace(minute=32))
    assert lake_store(settings).keys("raw/") == [object_key("raw", TICK)]
    assert len(server.requests) == 2


@pytest.mark.domain
def test_the_key_comes_from_the_environment_or_an_ssm_secure_string(aws_credentials) -> None:
    import boto3
    from moto import mock_aws

    assert api_key(None, {"ALPHAVANTAGE_API_KEY": f" {KEY} "}) == KEY
    with pytest.raises(ConfigError, match=r"^ALPHAVANTAGE_API_KEY: the alphavantage provider"):
        api_key(None, {})
    for bad_key in ("abc&apikey=x", "short12"):
        with pytest.raises(ConfigError, match="8-64 letters and digits") as bad:
            api_key(None, {"ALPHAVANTAGE_API_KEY": bad_key})
        assert bad_key not in str(bad.value)
    with mock_aws():
        boto3.client("ssm").put_parameter(
            Name="/marketdata/alphavantage", Value=KEY, Type="SecureString"
        )
        assert api_key("/marketdata/alphavantage", {}) == KEY
        with pytest.raises(ConfigError, match="'/marketdata/missing': SSM GetParameter failed"):
            api_key("/marketdata/missing", {})


@pytest.mark.graph
def test_the_cli_refuses_alphavantage_without_a_key_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from marketdata_assets.cli import main

    monkeypatch.setenv("MARKETDATA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ALPHAVANTAGE_API_KEY", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert main(["tick", "--provider", "alphavantage", "--symbols", "IBM"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ALPHAVANTAGE_API_KEY" in err
    assert not (tmp_path / "data").exists()


@pytest.mark.system
def test_on_aws_the_key_comes_from_ssm_and_the_budget_from_dynamodb(
    server: ProviderServer,
    aws_settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import boto3

    from marketdata_assets.definitions import configured_provider
    from marketdata_assets.operations.request_budget import DynamoRequestBudget
    from marketdata_tests.conftest import create_budget_table

    monkeypatch.delenv("ALPHAVANTAGE_API_KEY")
    settings = aws_settings.with_overrides(
        provider="alphavantage",
        symbols=("IBM", "MSFT"),
        providers={"alphavantage": {"daily_budget": 3, "url": server.url}},
    )
    with pytest.raises(ConfigError, match=r"^MARKETDATA_BUDGET_TABLE: the alphavantage provider"):
        configured_provider(settings)
    create_budget_table("budget")
    boto3.client("ssm").put_parameter(Name="/md/av", Value=KEY, Type="SecureString")
    settings = settings.with_overrides(
        budget_table="budget", providers={"alphavantage": {"key_param": "/md/av"}}
    )

    caplog.set_level(logging.DEBUG)
    assert run_tick(settings, TICK).raw == 2
    assert [q["apikey"] for q in server.queries] == [KEY, KEY]
    assert "Response body" in caplog.text  # botocore logged the bodies of its other calls
    assert KEY not in caplog.text  # but not the decrypted SSM answer
    budget = DynamoRequestBudget(boto3.client("dynamodb"), "budget", "alphavantage", 3)
    assert budget.used(TODAY()) == 2
    with pytest.raises(TickFailed, match="needs 2 requests but 1 of 3 are left"):
        run_tick(settings, TICK.replace(minute=32))


@pytest.mark.domain
def test_settings_read_the_budget_and_the_key_parameter() -> None:
    aws = {"MARKETDATA_PROFILE": "aws", "MARKETDATA_BUCKET": "b", "MARKETDATA_TABLE": "t"}
    read = Settings.from_env(
        aws
        | {
            "MARKETDATA_ALPHAVANTAGE_DAILY_BUDGET": "75",
            "MARKETDATA_BUDGET_TABLE": "budget",
            "ALPHAVANTAGE_API_KEY_PARAM": "/md/av",
            "MARKETDATA_ALPHAVANTAGE_URL": "http://127.0.0.1:9/av",
        }
    )
    section = read.providers.alphavantage
    assert (section.daily_budget, read.budget_table) == (75, "budget")
    assert (section.key_param, section.url) == ("/md/av", "http://127.0.0.1:9/av")
    local = Settings.from_env({"ALPHAVANTAGE_API_KEY_PARAM": "/md/av"})
    assert local.providers.alphavantage.key_param is None  # an AWS deployment's only
    for bad in ("0", "2.5", "many"):
        with pytest.raises(ConfigError, match=f"MARKETDATA_ALPHAVANTAGE_DAILY_BUDGET='{bad}'"):
            Settings.from_env({"MARKETDATA_ALPHAVANTAGE_DAILY_BUDGET": bad})


@pytest.mark.system
def test_the_deadline_holds_and_every_symbol_is_still_accounted_for(
    server: ProviderServer, budget: FileRequestBudget
) -> None:
    symbols = [f"S{i}" for i in range(6)]
    for symbol in symbols:
        server.answers[symbol] = [(200, quote_for(symbol), 0.4, False)]
    policy = FetchPolicy(
        request_timeout_s=0.3, deadline_s=1.0, max_attempts=3, backoff_base_s=0.01, workers=1
    )
    lines = envelopes(av(symbols, budget, policy).fetch(TICK))
    assert sorted(lines) == symbols  # nothing lost
    errors = [line["fetch"]["error"].split(":")[0] for line in lines.values()]
    assert set(errors) == {"Timeout", "DeadlineExceeded"}
    assert len(server.requests) <= budget.used(DAY) <= len(symbols) + len(server.requests)


class _FailingRetries(FileRequestBudget):
    """A budget whose store fails once the tick's requests are out (retries, DailyLimit)."""

    def take(self, count: int, day: date) -> bool:
        if count == 1:
            raise BudgetError("request budget 'x': the store is down")
        return super().take(count, day)

    def exhaust(self, day: date) -> None:
        raise BudgetError("request budget 'x': the store is down")


@pytest.mark.system
def test_a_budget_store_failure_after_the_requests_loses_no_answer(
    server: ProviderServer, tmp_path: Path
) -> None:
    budget = _FailingRetries(tmp_path / "budget.json", "alphavantage", 25)
    server.answers["BUSY"] = [(503, "busy", 0, False), (200, QUOTE, 0, False)]
    server.answers["SPENT"] = [(200, DAILY_LIMIT, 0, False)]
    lines = envelopes(av(["BUSY", "SPENT", "IBM"], budget).fetch(TICK))
    assert lines["BUSY"]["fetch"]["error"].startswith("ServerError:")  # no retry, no loss
    assert lines["SPENT"]["fetch"]["error"].startswith("DailyLimit:")
    assert "error" not in lines["IBM"]["fetch"] and len(server.requests) == 3


def live_tick(server: ProviderServer, session_days_ahead: int = 0) -> datetime:
    """The current minute (give or take 30 s, so an answer cannot land more than a minute after
    the tick starts); the server quotes the New York session that many days from today."""
    from zoneinfo import ZoneInfo

    tick = floor_minute(datetime.now(UTC) + timedelta(seconds=30))
    session = tick.astimezone(ZoneInfo("America/New_York")).date()
    day = (session + timedelta(days=session_days_ahead)).isoformat()
    server.default = lambda symbol: quote_for(symbol).replace("2026-11-25", day)
    return tick


@pytest.mark.system
def test_a_live_tick_validates_the_quotes_it_observes(server: ProviderServer, settings) -> None:
    settings = settings.with_overrides(provider="alphavantage", symbols=("IBM", "MSFT"))
    summary = run_tick(settings, live_tick(server))
    assert (summary.validated, summary.latest_updated, summary.quarantined) == (2, 2, 0)


@pytest.mark.system
def test_a_tick_for_a_past_minute_quarantines_live_quotes_as_from_the_future(
    server: ProviderServer, settings
) -> None:
    """A live quote is not the price of an earlier minute: backfill needs a replay. (The quoted
    session closes after now, so the received time is not capped at a close.)"""
    settings = settings.with_overrides(provider="alphavantage", symbols=("IBM", "MSFT"))
    summary = run_tick(settings, live_tick(server, session_days_ahead=1) - timedelta(minutes=5))
    assert (summary.validated, summary.quarantined) == (0, 2)
    assert summary.reasons == {"timestamp_future": 2}


def _strings(value: object) -> Iterator[str]:
    """Every string in a JSON value, keys included; a string that is itself JSON, decoded too."""
    if isinstance(value, str):
        yield value
        try:
            inner = json.loads(value)
        except ValueError:
            return
        if isinstance(inner, dict | list):
            yield from _strings(inner)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _read(path: Path) -> bytes:
    """A stored file's bytes as a reader gets them: a `.gz` one (raw) decompressed."""
    body = path.read_bytes()
    return gzip.decompress(body) if path.suffix == ".gz" else body


def _kind(path: Path) -> str:
    """A stored file's format: its suffix, before the `.gz` of a compressed one."""
    return Path(path.stem).suffix if path.suffix == ".gz" else path.suffix


def _stored_strings(folder: Path) -> Iterator[tuple[Path, str]]:
    """Every string a reader gets back from what a tick stored: each string cell of every
    Parquet file, each JSON line (envelope, then body) and JSON file, decoded (decompressed)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if _kind(path) == ".parquet":
            table = pq.read_table(path)
            for column in table.columns:
                if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                    yield from ((path, cell) for cell in column.to_pylist() if cell is not None)
        elif _kind(path) in (".jsonl", ".json"):
            text = _read(path).decode()
            values = [json.loads(line) for line in text.splitlines()] if _kind(path) == ".jsonl" \
                else [json.loads(text)]  # fmt: skip
            for value in values:
                yield from ((path, string) for string in _strings(value))


@pytest.mark.system
def test_the_key_echoed_in_any_spelling_is_in_no_decoded_cell_or_line(
    server: ProviderServer, settings
) -> None:
    """Alpha Vantage echoes the key JSON-escaped (upper- and lower-case hex, mixed with literal
    characters) and percent-encoded; the decoded lake holds none of it."""
    spellings = ["json", "json-lower", "json-mixed", "percent", "any-mix"]
    symbols = [f"E{i}" for i in range(len(spellings))]
    for symbol, spelling in zip(symbols, spellings, strict=True):
        echo = quote_for(f"{{apikey:{spelling}}}").replace(
            '"10. change percent"', '"11. echo": "key={apikey} {apikey:json}", "10. change percent"'
        )
        server.answers[symbol] = [(200, echo, 0, False)]
    settings = settings.with_overrides(provider="alphavantage", symbols=("IBM", *symbols))
    summary = run_tick(settings, TICK)
    assert summary.raw == 6 and summary.provider_errors == 0
    stored = list(_stored_strings(settings.data_dir))
    assert {_kind(path) for path, _ in stored} >= {".jsonl", ".parquet"}
    assert "[REDACTED]" in {text for path, text in stored if _kind(path) == ".parquet"}
    leaks = [
        (path.relative_to(settings.data_dir), text)
        for path, text in stored
        for decoded in (text, unquote(text))
        if KEY.lower() in decoded.lower()
    ]
    assert leaks == []
    raw = _read(next(path for path, _ in stored if _kind(path) == ".jsonl"))
    assert all(line["fetch"].get("redacted") for s, line in envelopes(raw).items() if s != "IBM")


@pytest.mark.system
@pytest.mark.parametrize(
    "body",
    [
        '{"Global Quote": []}',
        '{"Global Quote": null}',
        '{"Information": {"nested": ["x"]}}',
        '{"Error Message": null}',
        '{"Global Quote": {"01. symbol": ["IBM"], "05. price": NaN, "06. volume": 1e400}}',
        '{"Global Quote": {"01. symbol": "\\ud800", "07. latest trading day": "9999-12-31"}}',
        "[" * 50_000 + "]" * 50_000,
    ],
    ids=range(7),
)
def test_an_odd_answer_for_one_symbol_costs_only_that_symbol(
    server: ProviderServer, budget: FileRequestBudget, body: str
) -> None:
    server.answers["ODD"] = [(200, body, 0, False)]
    payload = av(["IBM", "ODD", "MSFT"], budget).fetch(TICK)
    lines = envelopes(payload)
    assert sorted(lines) == ["IBM", "MSFT", "ODD"] and lines["ODD"]["body"] == body
    assert "error" not in lines["IBM"]["fetch"] and "error" not in lines["MSFT"]["fetch"]
    curated = curate(payload, TICK)
    assert len(curated) == 3 - provider_errors(payload)
    assert curated.loc[curated["line"] != 2, "symbol"].tolist() == ["IBM", "MSFT"]


@pytest.mark.system
def test_the_key_echoed_in_base64_hex_or_another_case_never_lands_in_the_raw_object(
    server: ProviderServer, settings
) -> None:
    """Bodies echo the key base64-encoded at each alignment inside a longer payload (standard
    and URL-safe), in hex, lower-cased and as HTML references without `;`: the raw object the
    tick lands holds none of it, in any decoding, and the rest of each body is as received."""
    spellings = ["base64-0", "base64-1", "base64-2", "base64url", "hex", "lower", "html"]
    symbols = [f"B{i}" for i in range(len(spellings))]
    for symbol, spelling in zip(symbols, spellings, strict=True):
        field = f'"11. echo": "token {{apikey:{spelling}}}.", '
        echo = quote_for(symbol).replace('"10. change percent"', field + '"10. change percent"')
        server.answers[symbol] = [(200, echo, 0, False)]
    settings = settings.with_overrides(provider="alphavantage", symbols=("IBM", *symbols))
    summary = run_tick(settings, TICK)
    assert summary.raw == 1 + len(symbols) and summary.provider_errors == 0
    raw = [path for path in settings.data_dir.rglob("*.jsonl.gz") if "raw" in path.parts]
    assert len(raw) == 1
    payload = _read(raw[0])
    assert not reveals(payload.decode(), KEY)
    lines = envelopes(payload)
    for symbol in symbols:
        assert lines[symbol]["fetch"]["redacted"] is True
        quote = json.loads(lines[symbol]["body"])["Global Quote"]
        echoed = quote.pop("11. echo")
        assert echoed.startswith("token ") and "[REDACTED]" in echoed and echoed.endswith(".")
        assert quote == json.loads(quote_for(symbol))["Global Quote"]
    assert "redacted" not in lines["IBM"]["fetch"] and lines["IBM"]["body"] == QUOTE
