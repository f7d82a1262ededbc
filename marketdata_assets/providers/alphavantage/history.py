"""Alpha Vantage as a history source.

One request per symbol and MONTH: `TIME_SERIES_INTRADAY&symbol=S&interval=1min&month=YYYY-MM
&outputsize=full&extended_hours=false&adjusted=false` (regular hours only, as-traded prices, like
the tick). The answer is kept in the source instance, so every session of that month in one
backfill reuses it, and each session's envelope stores the whole month body as received: the
body is duplicated across the month's raw_history objects, so any one session replays alone.

A session's rows in a month body are those keyed by its date (`series` reads the bodies).

Fallback: when AV answers the intraday request with a premium-only refusal (an `Information`
that mentions premium and no daily limit), the source asks `TIME_SERIES_DAILY&outputsize=compact`
(free: the last 100 sessions) and the session gets its daily bar, with a note. A limit message
or an error gets no fallback: it would meet the same limit. Every request takes one unit of the
request budget before it is sent; `requests_needed` counts the intraday requests and the actions
requests (a fallback costs one more per symbol, and is skipped when the budget has none left).

Corporate actions: `SPLITS` and `DIVIDENDS` once per symbol per backfill (the symbol's whole
history each), asked with the symbol's first session and kept, and carried in every session's
envelope of the symbol as received (`alphavantage.actions`); rows dated outside any session
belong to the backfill's first session (`first_session`, else the first one fetched). A
backfill runs its sessions in runs of a few, each with a source of its own: the sources of one
backfill (one base URL, first session and day) in one process share its actions answers, so a
backfill asks them once whatever its runs.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import UTC, date, datetime

import httpx

from marketdata_assets.operations.request_budget import BudgetError, RequestBudget
from marketdata_assets.providers.alphavantage.actions import FUNCTIONS, action_requests
from marketdata_assets.providers.alphavantage.keys import KeyTransport
from marketdata_assets.providers.alphavantage.series import DAILY, INTRADAY, refusal
from marketdata_assets.providers.deadlines import transport
from marketdata_assets.providers.fetching import (
    Answer,
    FetchError,
    FetchPolicy,
    Request,
    check_status,
    fetch_all,
    json_body,
)
from marketdata_assets.providers.history import (
    HISTORY_FETCH_POLICY,
    Fetched,
    HistoryError,
    envelope,
    fetched,
    payload,
    require_session,
)

NAME = "alphavantage"
_KEPT_ERRORS = ("InvalidRequest",)  # final answers, kept like bodies: asking again cannot help
# (base URL, the backfill's first session, the day it runs) -> (symbol, function) -> the
# actions answer; the newest few backfills' only.
_BACKFILLS: OrderedDict[tuple[str, date, date], dict[tuple[str, str], Fetched]] = OrderedDict()
_BACKFILLS_KEPT = 4


def _backfill_actions(
    base_url: str, first_session: date | None, today: date
) -> dict[tuple[str, str], Fetched]:
    """The actions answers the sources of one backfill share (a source's own without a first
    session); a backfill of the same range on another day asks again."""
    if first_session is None:
        return {}
    key = (base_url, first_session, today)
    kept = _BACKFILLS.setdefault(key, {})
    _BACKFILLS.move_to_end(key)
    while len(_BACKFILLS) > _BACKFILLS_KEPT:
        _BACKFILLS.popitem(last=False)
    return kept


class AlphaVantageHistory:
    name = NAME

    def __init__(
        self,
        key: str,
        budget: RequestBudget,
        policy: FetchPolicy | None,
        base_url: str,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
        budget_variable: str = "the daily budget",
        first_session: date | None = None,
    ):
        self._key = key
        self.budget = budget
        self.policy = policy or HISTORY_FETCH_POLICY
        self.base_url = base_url
        self.today = today
        self.budget_variable = budget_variable  # the setting named when a session is refused
        self._months: dict[tuple[str, str], Fetched] = {}  # (symbol, month) -> its answer
        # (symbol, function) -> its answer, shared by the backfill's sources
        self._actions = _backfill_actions(base_url, first_session, today())
        self._home = first_session  # where rows dated outside any session land

    def __repr__(self) -> str:  # the key stays out of reprs and tracebacks
        return f"AlphaVantageHistory(base_url={self.base_url!r})"

    def requests_needed(self, sessions: Sequence[date], symbols: Sequence[str]) -> int:
        months = {f"{session:%Y-%m}" for session in sessions}
        intraday = sum((s, m) not in self._months for s in set(symbols) for m in months)
        actions = sum((s, f) not in self._actions for s in set(symbols) for f in FUNCTIONS)
        return intraday + (actions if sessions else 0)

    def symbols(self) -> None:
        return None

    def fetch(self, session: date, symbols: Sequence[str]) -> bytes:
        require_session(session)
        month = f"{session:%Y-%m}"
        names = sorted(set(symbols))
        missing = [s for s in names if (s, month) not in self._months]
        answers = self._ask(session, self._requests(missing, month), INTRADAY, required=True)
        premium = [s for s, a in answers.items() if (a.error or "").startswith("Premium:")]
        answers |= self._ask(session, self._requests(premium, None), DAILY, required=False)
        for symbol, answer in answers.items():
            if answer.error is None or answer.error.startswith(_KEPT_ERRORS):
                self._months[(symbol, month)] = answer
        self._home = self._home or session
        url = f"{self.base_url.rstrip('/')}/query"
        for function in FUNCTIONS:  # once per symbol: whatever it answered is kept
            asked = [s for s in names if (s, function) not in self._actions]
            requests = action_requests(url, function, asked)
            for symbol, answer in self._ask(session, requests, "data", required=True).items():
                self._actions[(symbol, function)] = answer
        known = {s: answers.get(s) or self._months.get((s, month)) for s in names}
        return payload([self._line(a, session) for a in known.values() if a is not None])

    def _line(self, answer: Fetched, session: date) -> str:
        """The symbol's envelope: its bars' answer, with its actions' answers as received."""
        assert self._home is not None  # set by the first fetch
        actions: dict[str, object] = {"home": self._home.isoformat()}
        for function in FUNCTIONS:
            actions[function] = self._actions[(answer.symbol, function)].answer()
        return envelope(
            NAME,
            answer.symbol,
            session,
            answer.body,
            request=answer.request,
            status=answer.status,
            error=answer.error,
            actions=actions,
        )

    def _requests(self, symbols: Sequence[str], month: str | None) -> list[Request]:
        """Pure: one intraday request per symbol for `month`, or daily ones (month None); the
        key is added by the transport."""
        url = f"{self.base_url.rstrip('/')}/query"
        if month is None:
            params = {"function": "TIME_SERIES_DAILY", "outputsize": "compact"}
        else:
            params = {
                "function": "TIME_SERIES_INTRADAY",
                "interval": "1min",
                "month": month,
                "outputsize": "full",
                "extended_hours": "false",
                "adjusted": "false",
            }
        return [Request(symbol, url, {**params, "symbol": symbol}) for symbol in symbols]

    def _ask(
        self, session: date, requests: list[Request], series: str, *, required: bool
    ) -> dict[str, Fetched]:
        """Each request's answer by symbol, after taking the budget for all of them: a
        refusal is a HistoryError when `required`, else no answer at all."""
        if not requests:
            return {}
        day = self.today()
        if not self.budget.take(len(requests), day):
            if not required:
                return {}
            left = max(0, self.budget.limit - self.budget.used(day))
            raise HistoryError(
                f"{NAME} request budget: session {session.isoformat()} needs {len(requests)} "
                f"requests but {left} of {self.budget.limit} are left for {day.isoformat()} (UTC); "
                f"refused before any request ({self.budget_variable} sets the limit)"
            )

        def may_retry() -> bool:
            try:
                return self.budget.take(1, day)
            except BudgetError:
                return False

        def check(response: Answer) -> None:
            try:
                check_series(series)(response)
            except FetchError as error:
                if error.kind == "DailyLimit":  # the quota is spent, whatever we counted
                    # a store failure here is harmless: the next request meets the limit again
                    with suppress(BudgetError):
                        self.budget.exhaust(day)
                raise

        keyed = KeyTransport(self._key, transport(self.policy.workers))
        with httpx.Client(transport=keyed, headers={"User-Agent": "marketdata/0.1"}) as client:
            answers = fetch_all(
                NAME,
                requests,
                check,
                self.policy,
                client,
                secrets=(self._key,),
                may_retry=may_retry,
            )
        return {answer.symbol: answer for answer in fetched(requests, answers)}


def check_series(series: str) -> Callable[[Answer], None]:
    """A check raising FetchError unless the answer holds the time series `series` (for
    "data", the actions' list)."""

    def check(response: Answer) -> None:
        check_status(response)
        body = json_body(response)
        if not isinstance(body, dict):
            raise FetchError("UnexpectedBody", "not a JSON object", retryable=False)
        said = refusal(body)
        if said is not None:
            kind, text = said.split(": ", 1)
            raise FetchError(kind, text, retryable=False)
        if not isinstance(body.get(series), list if series == "data" else dict):
            raise FetchError("UnexpectedBody", f"no {series}", retryable=False)

    return check
