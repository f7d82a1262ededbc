"""Alpha Vantage through GLOBAL_QUOTE, one request per symbol.

Alpha Vantage answers every error with HTTP 200 and a JSON body: `Error Message` (a bad call or
key), `Note` (the per-minute limit), `Information` (the daily limit, the demo key, premium-only
calls) and an empty `Global Quote` (an unknown symbol). Each becomes a typed error.

The API key (`keys`) travels only in the query string the transport adds on the way out, so it
is in no logged URL; a body that echoes it is redacted before it lands; errors never quote a URL.

GLOBAL_QUOTE carries the trading day, not a time: `event_ts` is the moment the answer was
received, capped at 16:00 New York on the quote's trading day, so a quote from a closed session
is stamped with that session's close and ages like one.

The quote maps onto the Quote fields by `QUOTE_FIELDS`: `06. volume` is the latest trading
day's cumulative volume. `currency` is derived (USD, but for a listing with a three-letter
exchange suffix: none); the body names no exchange and no time zone, so both are null rather
than guessed from the symbol.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import httpx

from marketdata_assets.operations.request_budget import BudgetError, RequestBudget, refusal
from marketdata_assets.providers.alphavantage.keys import KeyTransport
from marketdata_assets.providers.deadlines import transport
from marketdata_assets.providers.fetching import (
    Answer,
    FetchError,
    FetchPolicy,
    Request,
    check_status,
    detail,
    fetch_all,
    json_body,
)

NAME = "alphavantage"
_NEW_YORK = ZoneInfo("America/New_York")
_SESSION_CLOSE = time(16, 0)
_FOREIGN_LISTING = re.compile(r"\.[A-Z]{3}$")  # TSCO.LON, SHOP.TRT: not priced in USD

# Quote field -> the `Global Quote` field holding it, as sent (all strings; curation types them).
# Derived instead: `currency`, `event_ts`; not in the body: `exchange`, `exchange_tz`.
QUOTE_FIELDS = {
    "symbol": "01. symbol",
    "price": "05. price",
    "day_volume": "06. volume",
    "trading_day": "07. latest trading day",
}
log = logging.getLogger(__name__)


def build_requests(symbols: Sequence[str], base_url: str) -> list[Request]:
    """Pure: one GLOBAL_QUOTE request per symbol, without the key (the transport adds it)."""
    url = f"{base_url.rstrip('/')}/query"
    return [
        Request(symbol, url, {"function": "GLOBAL_QUOTE", "symbol": symbol}) for symbol in symbols
    ]


def check_response(response: Answer) -> None:
    """Raise FetchError unless the response holds a quote."""
    check_status(response)
    body = json_body(response)
    if not isinstance(body, dict):
        raise FetchError("UnexpectedBody", "not a JSON object", retryable=False)
    if "Error Message" in body:
        raise FetchError("InvalidRequest", detail(body["Error Message"]), retryable=False)
    if "Note" in body:  # the per-minute limit outlasts the tick's deadline: the next tick retries
        raise FetchError("RateLimited", detail(body["Note"]), retryable=False)
    if "Information" in body:
        text = detail(body["Information"], limit=None)
        daily = "per day" in text or "daily" in text
        raise FetchError("DailyLimit" if daily else "Refused", detail(text), retryable=False)
    quote = body.get("Global Quote")
    if not isinstance(quote, dict):
        raise FetchError("UnexpectedBody", "no Global Quote", retryable=False)
    if not quote:
        raise FetchError("UnknownSymbol", "Alpha Vantage has no quote", retryable=False)


def parse(body: str, fetch: Mapping[str, object]) -> dict[str, object] | None:
    """Pure and total: a GLOBAL_QUOTE body and its fetch metadata to the Quote fields as sent
    (None without a quote). Fields of the wrong type pass through for curation to null."""
    try:
        quote = json.loads(body)["Global Quote"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    if not isinstance(quote, dict) or not quote:
        return None
    record = {field: quote.get(name) for field, name in QUOTE_FIELDS.items()}
    symbol = record["symbol"]
    return {
        **record,
        "currency": "USD"
        if isinstance(symbol, str) and not _FOREIGN_LISTING.search(symbol)
        else None,
        "event_ts": observed_at(fetch.get("at"), record["trading_day"]),
        "exchange": None,
        "exchange_tz": None,
    }


def observed_at(received: object, trading_day: object) -> str | None:
    """When the answer was received, capped at 16:00 New York on the quote's trading day.
    Total: None unless both are strings of their ISO form and the moments exist in UTC."""
    if not isinstance(received, str) or not isinstance(trading_day, str):
        return None
    try:
        moment = datetime.fromisoformat(received)
        day = date.fromisoformat(trading_day)
        if moment.tzinfo is None or moment.utcoffset() is None:
            return None
        close = datetime.combine(day, _SESSION_CLOSE, _NEW_YORK).astimezone(UTC)
        return min(moment.astimezone(UTC), close).isoformat()
    except (ValueError, OverflowError):  # not ISO; or past datetime's range once in UTC
        return None


class AlphaVantageProvider:
    name = NAME

    def __init__(
        self,
        symbols: Sequence[str],
        key: str,
        budget: RequestBudget,
        policy: FetchPolicy | None = None,
        *,
        base_url: str,
        budget_variable: str = "the daily budget",
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ):
        self.symbols = tuple(symbols)
        self._key = key
        self.budget = budget
        self.policy = policy or FetchPolicy()
        self.base_url = base_url
        self.budget_variable = budget_variable  # the setting named when a tick is refused
        self.today = today

    def __repr__(self) -> str:  # the key stays out of reprs and tracebacks
        return f"AlphaVantageProvider(symbols={self.symbols!r}, base_url={self.base_url!r})"

    def fetch(self, tick: datetime) -> bytes:
        day = self.today()
        if not self.budget.take(len(self.symbols), day):
            raise refusal(self.name, len(self.symbols), self.budget, day, self.budget_variable)

        # Once requests are out, a budget store failure must not lose the tick's answers:
        # no retry without a request to spend, and a DailyLimit that cannot be recorded is
        # only logged (the next tick meets the provider's limit again).
        def may_retry() -> bool:
            try:
                return self.budget.take(1, day)
            except BudgetError as error:
                log.warning("no retry: %s", error)
                return False

        def check(response: Answer) -> None:
            try:
                check_response(response)
            except FetchError as error:
                if error.kind == "DailyLimit":  # the quota is spent, whatever we counted
                    try:
                        self.budget.exhaust(day)
                    except BudgetError as failure:
                        log.warning("daily limit not recorded: %s", failure)
                raise

        keyed = KeyTransport(self._key, transport(self.policy.workers))
        with httpx.Client(transport=keyed, headers={"User-Agent": "marketdata/0.1"}) as client:
            return fetch_all(
                self.name,
                build_requests(self.symbols, self.base_url),
                check,
                self.policy,
                client,
                secrets=(self._key,),
                may_retry=may_retry,
            )
