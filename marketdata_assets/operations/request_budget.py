"""A client-side budget of provider requests per UTC day.

A provider with a daily quota (Alpha Vantage's free tier: 25 requests) takes a tick's requests
from the budget before it sends any, so a tick that would overrun the quota is refused whole
instead of failing half way. Retries take one request each, when one is left. The counter is
shared by every process using the same store: a file under the data folder locally, an item of
a DynamoDB table on AWS, both updated atomically.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol


class BudgetExhausted(Exception):
    """A tick needs more requests than the day's budget has left."""


class BudgetError(Exception):
    """The budget's store could not be read or updated."""


class RequestBudget(Protocol):
    limit: int

    def take(self, count: int, day: date) -> bool:
        """Take `count` requests of `day` if that many are left (all or nothing)."""
        ...

    def used(self, day: date) -> int: ...

    def exhaust(self, day: date) -> None:
        """Mark `day` used up (the provider said its quota is spent)."""
        ...


def refusal(
    provider: str, needed: int, budget: RequestBudget, day: date, setting: str
) -> BudgetExhausted:
    """The error of a tick refused for want of requests; `setting` names the limit's variable."""
    left = max(0, budget.limit - budget.used(day))
    return BudgetExhausted(
        f"{provider} request budget: this tick needs {needed} requests but {left} of "
        f"{budget.limit} are left for {day.isoformat()} (UTC); refused before any request "
        f"({setting} sets the limit)"
    )


class FileRequestBudget:
    """The day's count in a JSON file, updated under an exclusive lock with an atomic rename."""

    def __init__(self, path: Path, provider: str, limit: int):
        self.path, self.provider, self.limit = path, provider, limit

    def take(self, count: int, day: date) -> bool:
        with self._locked():
            used = self._read(day)
            if used + count > self.limit:
                return False
            self._write(day, used + count)
            return True

    def used(self, day: date) -> int:
        with self._locked():
            return self._read(day)

    def exhaust(self, day: date) -> None:
        with self._locked():
            self._write(day, max(self.limit, self._read(day)))

    def _locked(self) -> Any:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return _FileLock(self.path.with_name(self.path.name + ".lock"))

    def _counts(self) -> dict[str, Any]:
        try:
            counts = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError:
            counts = None
        if not isinstance(counts, dict):
            raise BudgetError(f"request budget {str(self.path)!r}: not a JSON object")
        return counts

    def _read(self, day: date) -> int:
        entry = self._counts().get(self.provider) or {}
        return int(entry.get("used", 0)) if entry.get("day") == day.isoformat() else 0

    def _write(self, day: date, used: int) -> None:
        counts = self._counts()
        counts[self.provider] = {"day": day.isoformat(), "used": used}
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".budget-")
        try:
            with os.fdopen(handle, "w") as out:
                json.dump(counts, out)
                out.flush()
                os.fsync(out.fileno())  # a crash leaves the old count or the new, never none
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


class _FileLock:
    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> None:
        self.handle = open(self.path, "a")
        fcntl.flock(self.handle, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


class DynamoRequestBudget:
    """The day's count in one DynamoDB item (`budget` = "provider#day"), taken with a
    conditional `ADD`, so concurrent ticks can never overrun it; items expire after two days."""

    def __init__(self, client: Any, table: str, provider: str, limit: int):
        self.client, self.table, self.provider, self.limit = client, table, provider, limit

    def take(self, count: int, day: date) -> bool:
        if count > self.limit:
            return False
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._key(day),
                UpdateExpression="ADD used :count SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(used) OR used <= :room",
                ExpressionAttributeValues={
                    ":count": {"N": str(count)},
                    ":room": {"N": str(self.limit - count)},
                    ":expires": {"N": str(_expiry(day))},
                },
            )
        except Exception as error:
            if _condition_failed(error):
                return False
            raise self._failure("UpdateItem", error) from None
        return True

    def used(self, day: date) -> int:
        try:
            item = self.client.get_item(
                TableName=self.table, Key=self._key(day), ConsistentRead=True
            ).get("Item")
        except Exception as error:
            raise self._failure("GetItem", error) from None
        return int(item["used"]["N"]) if item and "used" in item else 0

    def exhaust(self, day: date) -> None:
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._key(day),
                UpdateExpression="SET used = :limit, expires_at = :expires",
                ConditionExpression="attribute_not_exists(used) OR used < :limit",
                ExpressionAttributeValues={
                    ":limit": {"N": str(self.limit)},
                    ":expires": {"N": str(_expiry(day))},
                },
            )
        except Exception as error:
            if not _condition_failed(error):
                raise self._failure("UpdateItem", error) from None

    def _key(self, day: date) -> dict[str, dict[str, str]]:
        return {"budget": {"S": f"{self.provider}#{day.isoformat()}"}}

    def _failure(self, operation: str, error: Exception) -> BudgetError:
        from marketdata_assets.lake.aws import describe

        return BudgetError(
            f"request budget table {self.table!r}: {operation} failed: {describe(error)}"
        )


def _expiry(day: date) -> int:
    """Epoch seconds two days after `day` ends (the table's TTL attribute)."""
    return int(datetime.combine(day + timedelta(days=3), time(), UTC).timestamp())


def _condition_failed(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return bool(response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")
