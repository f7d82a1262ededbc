from datetime import UTC, datetime, timedelta

import pytest

from marketdata_assets.errors import ConfigError
from marketdata_assets.lambda_handler import scheduled_tick
from marketdata_assets.market.ticks import format_tick, parse_tick
from marketdata_assets.operations.time_budget import FUTURE_WINDOW_S
from marketdata_assets.settings import DEFAULT_SYMBOLS, Settings, StorageSettings, parse_symbols

pytestmark = pytest.mark.domain


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25T14:31Z", datetime(2026, 11, 25, 14, 31, tzinfo=UTC)),
        ("2026-11-25T14:31:59.999+00:00", datetime(2026, 11, 25, 14, 31, tzinfo=UTC)),
        ("2026-11-25T09:31:10-05:00", datetime(2026, 11, 25, 14, 31, tzinfo=UTC)),
    ],
)
def test_tick_is_the_utc_minute_containing_the_time(text: str, expected: datetime) -> None:
    assert parse_tick(text, window_s=FUTURE_WINDOW_S) == expected


@pytest.mark.parametrize("text", ["2026-11-25T14:31", "yesterday", "", "2026-13-01T00:00Z"])
def test_bad_tick_names_the_input_and_the_rule(text: str) -> None:
    with pytest.raises(ConfigError, match=r"--at .*(offset|ISO-8601)"):
        parse_tick(text, window_s=FUTURE_WINDOW_S)


def test_tick_formats_as_an_iso_minute() -> None:
    assert (
        format_tick(parse_tick("2026-11-25T09:31-05:00", window_s=FUTURE_WINDOW_S))
        == "2026-11-25T14:31Z"
    )


def test_settings_default_to_the_local_stub_with_ten_symbols() -> None:
    settings = Settings.from_env({})
    assert (settings.profile, settings.provider, settings.symbols) == (
        "local",
        "stub",
        DEFAULT_SYMBOLS,
    )
    assert len(settings.symbols) == 10


def test_symbols_are_upper_cased_and_deduplicated() -> None:
    assert parse_symbols(" aapl,MSFT , aapl,") == ("AAPL", "MSFT")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MARKETDATA_PROFILE": "cloud"}, "MARKETDATA_PROFILE='cloud': must be one of local, aws"),
        ({"MARKETDATA_SYMBOLS": " , "}, "MARKETDATA_SYMBOLS=' , ': the symbol list is empty"),
        ({"MARKETDATA_SYMBOLS": "a,../etc"}, "MARKETDATA_SYMBOLS='a,../etc': '../ETC' is not a"),
        (
            {"MARKETDATA_FAULT_RATE": "lots"},
            "MARKETDATA_FAULT_RATE='lots': must be a number between 0 and 1",
        ),
        (
            {"MARKETDATA_FAULT_RATE": "1.5"},
            "MARKETDATA_FAULT_RATE='1.5': must be a number between 0 and 1",
        ),
        ({"MARKETDATA_FAULT_RATE": "nan"}, "MARKETDATA_FAULT_RATE='nan': must be a number"),
        ({"MARKETDATA_SEED": "-1"}, "MARKETDATA_SEED='-1': must be a whole number from 0 to"),
        ({"MARKETDATA_SEED": str(2**32)}, f"MARKETDATA_SEED='{2**32}': must be a whole number"),
        (
            {"MARKETDATA_LOG_LEVEL": "garbage"},
            "MARKETDATA_LOG_LEVEL='garbage': must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
        ),
        ({"MARKETDATA_PROVIDER": "bloomberg"}, "MARKETDATA_PROVIDER='bloomberg': must be one of"),
        ({"MARKETDATA_SOURCE": "s3://bucket/"}, "MARKETDATA_SOURCE='s3://bucket/': an S3 source"),
        ({"MARKETDATA_JUMP_THRESHOLD": "inf"}, "MARKETDATA_JUMP_THRESHOLD='inf': must be a number"),
        (
            {"MARKETDATA_JUMP_CONFIRMATIONS": "101"},
            "MARKETDATA_JUMP_CONFIRMATIONS='101': must be a whole number from 1 to 100",
        ),
        ({"MARKETDATA_JUMP_CONFIRMATIONS": "2.5"}, "MARKETDATA_JUMP_CONFIRMATIONS='2.5': must be"),
        ({"MARKETDATA_ALWAYS_OPEN": "maybe"}, "MARKETDATA_ALWAYS_OPEN='maybe': must be 1 or 0"),
        (
            {"MARKETDATA_FETCH_CONCURRENCY": "0"},
            "MARKETDATA_FETCH_CONCURRENCY='0': must be a whole number from 1 to 256",
        ),
        (
            {"MARKETDATA_FETCH_CONCURRENCY": "257"},
            "MARKETDATA_FETCH_CONCURRENCY='257': must be a whole number from 1 to 256",
        ),
    ],
)
def test_bad_environment_is_one_line_naming_the_variable_and_the_rule(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_settings_read_every_variable_by_its_name() -> None:
    settings = Settings.from_env(
        {
            "MARKETDATA_DATA_DIR": "/srv/lake",
            "MARKETDATA_PROVIDER": "replay",
            "MARKETDATA_SYMBOLS": "ibm, brk.b",
            "MARKETDATA_SOURCE": "s3://lake/raw/x.jsonl",
            "MARKETDATA_FAULT_RATE": "0.25",
            "MARKETDATA_SEED": "4294967295",
            "MARKETDATA_JUMP_THRESHOLD": "0.1",
            "MARKETDATA_JUMP_CONFIRMATIONS": "5",
            "MARKETDATA_QUARANTINE_WARN_SHARE": "0.2",
            "MARKETDATA_LOG_LEVEL": "info",
            "MARKETDATA_ALWAYS_OPEN": "1",
            "MARKETDATA_FETCH_CONCURRENCY": "16",
            "MARKETDATA_SEED_UNUSED": "ignored",
        }
    )
    assert settings.data_dir.as_posix() == "/srv/lake"
    assert settings.sqlite_path.as_posix() == "/srv/lake/latest_prices.sqlite"
    assert (settings.provider, settings.symbols, settings.source) == (
        "replay",
        ("IBM", "BRK.B"),
        "s3://lake/raw/x.jsonl",
    )
    assert (settings.fault_rate, settings.seed) == (0.25, 2**32 - 1)
    assert (settings.jump_threshold, settings.jump_confirmations) == (0.1, 5)
    assert (settings.quarantine_warn_share, settings.log_level, settings.always_open) == (
        0.2,
        "INFO",
        True,
    )
    assert settings.fetch_concurrency == 16


def test_jump_confirmations_defaults_to_three() -> None:
    assert Settings.from_env({}).jump_confirmations == 3
    assert Settings().jump_confirmations == 3


def test_empty_variables_count_as_unset() -> None:
    settings = Settings.from_env({"MARKETDATA_SYMBOLS": "", "MARKETDATA_SEED": ""})
    assert (settings.symbols, settings.seed) == (DEFAULT_SYMBOLS, 7)


def test_constructing_settings_never_reads_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("MARKETDATA_PROVIDER", "yahoo")
    assert Settings().provider == "stub"
    assert Settings.from_env().provider == "yahoo"


def test_storage_settings_ignore_tick_only_variables() -> None:
    broken_tick = {
        "MARKETDATA_FAULT_RATE": "abc",
        "MARKETDATA_SEED": "-1",
        "MARKETDATA_LOG_LEVEL": "garbage",
        "MARKETDATA_SYMBOLS": "../etc",
        "MARKETDATA_PROVIDER": "bloomberg",
        "MARKETDATA_DATA_DIR": "/srv/lake",
    }
    storage = StorageSettings.from_env(broken_tick)
    assert (storage.profile, storage.data_dir.as_posix()) == ("local", "/srv/lake")
    with pytest.raises(ConfigError, match=r"^MARKETDATA_TABLE: must be set when"):
        StorageSettings.from_env({"MARKETDATA_PROFILE": "aws", "MARKETDATA_BUCKET": "b"})


def test_overrides_are_checked_by_the_same_rules_and_name_their_flag() -> None:
    settings = Settings.from_env({})
    flags = {"seed": "--seed", "fault_rate": "--fault-rate"}
    with pytest.raises(ConfigError, match=r"^--seed '-1': must be a whole number from 0 to"):
        settings.with_overrides(flags, seed="-1")
    with pytest.raises(ConfigError, match=r"^--fault-rate 'nan': must be a number between 0"):
        settings.with_overrides(flags, fault_rate="nan")
    with pytest.raises(ConfigError, match=r"^MARKETDATA_FAULT_RATE=2: must be a number"):
        settings.with_overrides(fault_rate=2)
    changed = settings.with_overrides(flags, seed="11", fault_rate=None)
    assert (changed.seed, changed.fault_rate, settings.seed) == (11, 0.0, 7)


NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


def test_a_tick_may_be_at_most_the_future_window_after_now() -> None:
    assert FUTURE_WINDOW_S == 60
    ahead = parse_tick("2026-11-25T14:31Z", now=NOW, window_s=FUTURE_WINDOW_S)
    assert ahead == NOW + timedelta(minutes=1)
    with pytest.raises(ConfigError, match=r"^--at '2026-11-25T14:31Z': must be a minute from"):
        parse_tick("2026-11-25T14:31Z", now=NOW - timedelta(seconds=1), window_s=FUTURE_WINDOW_S)
    with pytest.raises(ConfigError, match="at most 60 s after the current time"):
        parse_tick("2099-01-01T00:00Z", window_s=FUTURE_WINDOW_S)


@pytest.mark.parametrize(
    "text",
    [
        "1969-12-31T23:59:59Z",
        "0001-01-01T00:00:00+01:00",  # overflows datetime on the way to UTC
        "9999-12-31T23:59:59-01:00",  # likewise
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ],
)
def test_ticks_outside_1970_to_now_are_bad_input_not_tracebacks(text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_tick(text, window_s=FUTURE_WINDOW_S)
    assert str(raised.value).startswith(f"--at '{text}': must be a minute from 1970-01-01T00:00Z")


def test_the_epoch_is_the_earliest_tick() -> None:
    earliest = parse_tick("1970-01-01T00:00:59+00:00", window_s=FUTURE_WINDOW_S)
    assert earliest == datetime(1970, 1, 1, tzinfo=UTC)


def test_lambda_refuses_a_scheduled_time_in_the_future_by_the_same_rule() -> None:
    with pytest.raises(ConfigError, match=r"^event field time '2099-01-01T00:00:00Z': must be"):
        scheduled_tick({"time": "2099-01-01T00:00:00Z"})
