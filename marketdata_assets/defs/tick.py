"""Which minute a tick run processes, and the run's hold on that minute.

The minute is typed run config, `resources.tick_run.config.minute`, resolved once when the run
starts; the `marketdata/tick` tag carries the same minute so runs can be filtered by it. The
tick job runs every step in one process (`in_process_executor`), so the lock taken before the
run's first write is held until the run ends: two runs of one minute never mix their objects.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime

from dagster import ConfigurableResource, InitResourceContext, ResourceDependency
from pydantic import Field, PrivateAttr

from marketdata_assets.defs.lake import LakeResource
from marketdata_assets.lake.locks import tick_claim
from marketdata_assets.market.ticks import TICK_TAG, floor_minute, format_tick, parse_tick
from marketdata_assets.operations.time_budget import FUTURE_WINDOW_S, MARGIN_S

TICK_RESOURCE = "tick_run"


class TickRun(ConfigurableResource):
    """The run's minute (UTC, `YYYY-MM-DDTHH:MMZ`); the `marketdata/tick` tag when empty, else
    the minute the run was created (a run launched from the UI without either)."""

    minute: str = Field(default="", description="The tick's UTC minute, e.g. 2026-11-25T14:31Z.")
    deadline_ms: int = Field(
        default=0,
        description="When the invocation running the tick ends (epoch ms, as Lambda's context "
        "counts it; 0: none): the wait for the tick's lock ends before it.",
    )
    lake: ResourceDependency[LakeResource]

    _tick: datetime | None = PrivateAttr(default=None)
    _run_id: str = PrivateAttr(default="")
    _held: ExitStack | None = PrivateAttr(default=None)
    _holding: bool = PrivateAttr(default=False)

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator["TickRun"]:
        self._tick = self._resolve(context)
        self._run_id = context.run.run_id if context.run else ""
        with ExitStack() as held:  # the lock this run takes is released when it ends
            self._held, self._holding = held, False
            try:
                yield self
            finally:
                self._held = None

    def _resolve(self, context: InitResourceContext) -> datetime:
        tags = context.run.tags if context.run else {}
        tagged = tags.get(TICK_TAG)
        if self.minute:
            tick = parse_tick(
                self.minute, source=f"run config {TICK_RESOURCE}.minute", window_s=FUTURE_WINDOW_S
            )
            if tagged is not None and tagged != format_tick(tick):
                raise ValueError(
                    f"run config {TICK_RESOURCE}.minute {format_tick(tick)}: must equal the run's "
                    f"{TICK_TAG} tag {tagged}"
                )
            return tick
        if tagged is not None:
            return parse_tick(tagged, source=f"run tag {TICK_TAG}", window_s=FUTURE_WINDOW_S)
        record = (
            context.instance.get_run_record_by_id(context.run.run_id)
            if context.instance and context.run
            else None
        )
        return floor_minute(record.create_timestamp if record else datetime.now(UTC))

    @property
    def tick(self) -> datetime:
        if self._tick is None:
            raise RuntimeError(f"resource {TICK_RESOURCE}: its minute is known only inside a run")
        return self._tick

    def hold(self) -> None:
        """Take the tick's lock for the rest of the run (once; before the run's first write)."""
        if self._held is not None and not self._holding:
            hold = self.lake.tick_lock().hold(
                tick_claim(self.tick), f"run {self._run_id}", self._remaining_s()
            )
            self._held.enter_context(hold)
            self._holding = True

    def _remaining_s(self) -> Callable[[], float] | None:
        """The time the invocation has left for writing, by its own clock (Lambda's context
        counts the same way), less the margin; None outside an invocation."""
        if not self.deadline_ms:
            return None
        deadline_s = self.deadline_ms / 1000 - MARGIN_S
        return lambda: deadline_s - time.time()


def tick_tags(tick: datetime) -> dict[str, str]:
    return {TICK_TAG: format_tick(tick)}


def tick_run_config(tick: datetime, deadline_ms: int = 0) -> dict[str, object]:
    """The run config of a tick run for `tick`, in an invocation ending at `deadline_ms`."""
    config: dict[str, object] = {"minute": format_tick(tick)}
    if deadline_ms:
        config["deadline_ms"] = deadline_ms
    return {"resources": {TICK_RESOURCE: {"config": config}}}
