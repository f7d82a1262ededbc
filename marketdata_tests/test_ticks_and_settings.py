from datetime import UTC, datetime

import pytest

from marketdata_assets.errors import ConfigError
from marketdata_assets.settings import DEFAULT_SYMBOLS, Settings, parse_symbols
from marketdata_assets.ticks import format_tick, parse_tick


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25T14:31Z", datetime(2026, 11, 25, 14, 31, tzinfo=UTC)),
        ("2026-11-25T14:31:59.999+00:00", datetime(2026, 11, 25, 14, 31, tzinfo=UTC)),
        ("2026-11-25T09:31:10-05:00", datetime(2026, 11, 25, 14, 31, tzinfo=UTC)),
    ],
)
def test_tick_is_the_utc_minute_containing_the_time(text: str, expected: datetime) -> None:
    assert parse_tick(text) == expected


@pytest.mark.parametrize("text", ["2026-11-25T14:31", "yesterday", "", "2026-13-01T00:00Z"])
def test_bad_tick_names_the_input_and_the_rule(text: str) -> None:
    with pytest.raises(ConfigError, match=r"--at .*(offset|ISO-8601)"):
        parse_tick(text)


def test_tick_formats_as_an_iso_minute() -> None:
    assert format_tick(parse_tick("2026-11-25T09:31-05:00")) == "2026-11-25T14:31Z"


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
        ({"MARKETDATA_SYMBOLS": " , "}, "MARKETDATA_SYMBOLS: the symbol list is empty"),
        ({"MARKETDATA_SYMBOLS": "../etc"}, "MARKETDATA_SYMBOLS: '../ETC' is not a symbol"),
        ({"MARKETDATA_FAULT_RATE": "lots"}, "MARKETDATA_FAULT_RATE='lots': must be a number"),
        ({"MARKETDATA_FAULT_RATE": "1.5"}, "MARKETDATA_FAULT_RATE='1.5': must be between 0 and 1"),
    ],
)
def test_bad_environment_names_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)
    assert str(raised.value).startswith(message)
