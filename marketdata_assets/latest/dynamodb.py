"""The latest-price table in DynamoDB, for the aws profile.

Each symbol is one conditional UpdateItem (`attribute_not_exists(symbol) OR event_ts < :ts`):
never BatchWriteItem (it cannot be conditional) nor transactions (one stale row cancels the
batch, at twice the write cost). A failed condition is a `stale` row, not an error. The writes
of one upsert go out `WRITERS` at a time; the condition keeps newer-wins whatever order they
land in, retried ones included.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from marketdata_assets.lake.aws import describe
from marketdata_assets.latest import (
    LatestPrice,
    UpsertResult,
    from_micros,
    newest_per_symbol,
    to_micros,
)

# Concurrent UpdateItem calls (boto3 clients are thread-safe), at most the client's connection
# pool (`stores.aws_client`). Chosen by `bench/latest_writes.py`: a write costs the client about
# 0.7-1.1 ms of CPU, so about (round trip / CPU per write) writers keep one core busy: 6-12 at
# an in-region round trip of 5-10 ms; 16 reach the client's CPU bound up to ~15 ms (latency
# tails), where more threads only add switching. Throttling is handled by the client's adaptive
# retries, which slow every writer together.
WRITERS = 16


class StoreError(RuntimeError):
    """A table operation failed; the message names the operation, table and key."""


class DynamoLatestPriceStore:
    """One item per symbol: price, currency, event_ts and tick as epoch microseconds."""

    def __init__(self, client: Any, table: str, writers: int = WRITERS):
        self.client = client
        self.table = table
        self.writers = writers

    def _write(self, price: LatestPrice, now: str) -> bool:
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"symbol": {"S": price.symbol}},
                UpdateExpression=(
                    "SET price = :price, currency = :currency, event_ts = :ts,"
                    " tick = :tick, updated_at = :now"
                ),
                ConditionExpression="attribute_not_exists(symbol) OR event_ts < :ts",
                ExpressionAttributeValues={
                    ":price": {"N": repr(price.price)},
                    ":currency": {"S": price.currency},
                    ":ts": {"N": str(to_micros(price.event_ts))},
                    ":tick": {"N": str(to_micros(price.tick))},
                    ":now": {"S": now},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise self._fail("UpdateItem", price.symbol, error) from error
        except BotoCoreError as error:
            raise self._fail("UpdateItem", price.symbol, error) from error
        return True

    def _fail(self, operation: str, symbol: str, error: Exception) -> StoreError:
        where = f"{self.table} symbol={symbol!r}"
        return StoreError(f"DynamoDB {operation} {where} failed: {describe(error)}")

    def upsert(self, prices: Iterable[LatestPrice]) -> UpsertResult:
        rows = newest_per_symbol(prices)
        now = datetime.now(UTC).isoformat()
        with ThreadPoolExecutor(max_workers=self.writers) as pool:
            written = list(pool.map(lambda p: self._write(p, now), rows))
        updated = sum(written)
        return UpsertResult(updated=updated, stale=len(rows) - updated)

    def remove(self, symbol: str) -> bool:
        try:
            answer = self.client.delete_item(
                TableName=self.table, Key={"symbol": {"S": symbol}}, ReturnValues="ALL_OLD"
            )
        except (ClientError, BotoCoreError) as error:
            raise self._fail("DeleteItem", symbol, error) from error
        return bool(answer.get("Attributes"))

    def version(self) -> Hashable:
        return None  # nothing cheaper to look at than the rows themselves

    def all(self) -> list[LatestPrice]:
        try:
            pages = self.client.get_paginator("scan").paginate(TableName=self.table)
            items = [item for page in pages for item in page.get("Items", [])]
        except (ClientError, BotoCoreError) as error:
            raise self._fail("Scan", "*", error) from error
        rows = [
            LatestPrice(
                symbol=item["symbol"]["S"],
                price=float(item["price"]["N"]),
                currency=item["currency"]["S"],
                event_ts=from_micros(int(item["event_ts"]["N"])),
                tick=from_micros(int(item["tick"]["N"])),
            )
            for item in items
        ]
        return sorted(rows, key=lambda row: row.symbol)
