"""The tick's own AWS clients, timed and metered while a measurement runs: the process's CPU
seconds while some AWS call is in flight (across the tick's threads; in-process moto serves
the call on that CPU), and DynamoDB's request units from each call's parameters."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# Write units per item of each DynamoDB write (items here are far under 1 KB); reads as
# strongly consistent GetItem (1 unit under 4 KB), the most a read can cost.
_WRITE_UNITS = {"UpdateItem": 1, "PutItem": 1, "DeleteItem": 1}
_READ_UNITS = {"GetItem": 1}


@dataclass
class Clients:
    """The tick's own (counted) clients, timed and metered; and plain ones to inspect."""

    in_flight: int = 0
    started: float = 0.0
    aws_s: float = 0.0
    units: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hooks(self) -> list[tuple[str, Any]]:
        return [
            ("before-call", self._began),
            ("after-call", self._ended),
            ("after-call-error", self._ended),
            ("provide-client-params.dynamodb", self._metered),
        ]

    @contextmanager
    def watching(self) -> Iterator[Clients]:
        """Time and meter the tick's clients (the process's, which a later sandbox with the
        same environment reuses) while the block runs."""
        from marketdata_assets import stores

        registered = [stores.aws_client(service).meta.events for service in ("s3", "dynamodb")]
        for events in registered:
            for name, hook in self.hooks():
                events.register(name, hook)
        try:
            yield self
        finally:
            for events in registered:
                for name, hook in self.hooks():
                    events.unregister(name, hook)

    def boto3(self, service: str) -> Any:
        import boto3

        return boto3.client(service)  # type: ignore[call-overload]

    def _began(self, **_: Any) -> None:
        with self.lock:
            if self.in_flight == 0:
                self.started = time.process_time()
            self.in_flight += 1

    def _ended(self, **_: Any) -> None:
        with self.lock:
            self.in_flight -= 1
            if self.in_flight == 0:
                self.aws_s += time.process_time() - self.started

    def _metered(self, params: Any = None, event_name: str = "", **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        params = params if isinstance(params, dict) else {}
        writes = _WRITE_UNITS.get(operation, 0)
        if operation == "BatchWriteItem":
            writes = sum(len(r) for r in params.get("RequestItems", {}).values())
        if operation == "TransactWriteItems":
            writes = 2 * len(params.get("TransactItems", []))
        with self.lock:
            self.units["write"] += writes
            self.units["read"] += _READ_UNITS.get(operation, 0)
