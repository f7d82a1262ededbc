"""After a backfill: re-materialise the later partitions whose declared windows read what it wrote.

session_analytics reads the 20 sessions of daily_bars before its own, forecast_skill and
price_forecasts the 29 of minute and daily bars before theirs (partition mappings in `defs`),
and minute_bars_monthly compacts the month of each minute_bars session.
A backfill of older sessions changes what those later partitions would compute, so it
re-materialises every one the lake holds whose window includes a session it wrote: the lake
after any order of backfills is then the lake after one backfill of their union.

What is stale is read from the Definitions alone: every partitioned asset's dependencies and
their partition mappings (`PartitionMapping.get_downstream_partitions_for_partitions`), followed
from the assets the backfill materialised; the windows' sizes have no second copy here. Only the
downstream assets run (an asset selection of the job that holds them), never the provider, and
only where their object is already in the lake: a refresh rewrites, it never adds.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date
from typing import IO

from dagster import (
    AssetKey,
    DagsterInstance,
    Definitions,
    IdentityPartitionMapping,
    JobDefinition,
)

from marketdata_assets import stores
from marketdata_assets.defs.partitions import SESSIONS_PER_RUN, trading_sessions
from marketdata_assets.execution.batches import RANGE_END, RANGE_START
from marketdata_assets.execution.progress import Progress
from marketdata_assets.execution.tick import failure_line
from marketdata_assets.lake import ObjectStore, dataset_of_asset, day_key
from marketdata_assets.lake.keys import month_key
from marketdata_assets.settings import Settings


@dataclass(frozen=True)
class Refresh:
    """One run: `assets` of `job` over consecutive `sessions` (a partition range)."""

    job: str
    assets: tuple[str, ...]
    sessions: tuple[date, ...]


@dataclass(frozen=True)
class Refreshed:
    """What the refresh ran: the sessions re-materialised, per asset, and the runs that failed
    ({"session", "error"} per session of a failed run)."""

    assets: dict[str, list[str]]
    failed: list[dict[str, str]]

    @property
    def sessions(self) -> list[str]:
        return sorted({key for keys in self.assets.values() for key in keys})


def stale_partitions(
    defs: Definitions, materialised: Collection[str], written: Collection[date]
) -> dict[str, set[str]]:
    """Per session-partitioned asset, the partitions that read (through its declared mappings,
    transitively) a partition of `materialised` at a session of `written`; the written
    partitions of the materialised assets themselves are left out (they were just computed)."""
    specs = [s for s in defs.resolve_all_asset_specs() if s.partitions_def == trading_sessions]
    stale: dict[AssetKey, set[str]] = {
        AssetKey(name): {session.isoformat() for session in written} for name in materialised
    }
    changed = bool(written)
    while changed:  # to a fixed point: the graph is a handful of assets deep
        changed = False
        for spec in specs:
            for dep in spec.deps:
                upstream = stale.get(dep.asset_key)
                if not upstream:
                    continue
                mapping = dep.partition_mapping or IdentityPartitionMapping()
                keys = mapping.get_downstream_partitions_for_partitions(
                    trading_sessions.subset_with_partition_keys(sorted(upstream)),
                    trading_sessions,
                    trading_sessions,
                ).get_partition_keys()
                new = set(keys) - stale.setdefault(spec.key, set())
                if new:
                    stale[spec.key] |= new
                    changed = True
    done = {session.isoformat() for session in written}
    left = {
        key.to_user_string(): keys - done if key.to_user_string() in materialised else keys
        for key, keys in stale.items()
    }
    return {asset: keys for asset, keys in left.items() if keys}


def plan_refresh(
    defs: Definitions,
    lake: ObjectStore,
    materialised: Collection[str],
    written: Collection[date],
    per_run: int,
) -> list[Refresh]:
    """The runs that re-materialise the stale partitions the lake holds: per job, consecutive
    sessions needing the same assets, at most `per_run` sessions a run."""
    held: dict[str, set[str]] = {}
    for asset, keys in stale_partitions(defs, materialised, written).items():
        present = {key for key in keys if _held(lake, _object_of(asset, date.fromisoformat(key)))}
        if present:
            held[asset] = present
    runs = []
    index: dict[str, int] = {}  # each partition key's place, made once when a run is needed
    for job, selected in job_assets(defs).items():
        mine = {asset: keys for asset, keys in held.items() if AssetKey(asset) in selected}
        for asset in mine:
            del held[asset]
        by_session: dict[str, tuple[str, ...]] = {}
        for asset, keys in sorted(mine.items()):
            for key in keys:
                by_session[key] = (*by_session.get(key, ()), asset)
        if by_session and not index:  # all the partition keys: 0.7 s, so once
            index = {key: n for n, key in enumerate(trading_sessions.get_partition_keys())}
        runs += [Refresh(job, assets, sessions) for assets, sessions in _ranges(by_session, index)]
    if held:
        raise RuntimeError(f"no job of the Definitions materialises {', '.join(sorted(held))}")
    runs = [chunk for run in runs for chunk in _chunks(run, per_run)]
    return sorted(runs, key=lambda run: (run.sessions[0], run.job))


def job_assets(defs: Definitions) -> dict[str, AbstractSet[AssetKey]]:
    """Each asset job of the Definitions and the assets it materialises (its selection)."""
    graph = defs.resolve_asset_graph()
    return {
        job.name: job.selection.resolve(graph)
        for job in defs.jobs or ()
        if not isinstance(job, JobDefinition)  # an asset job, its selection not yet resolved
    }


def _ranges(
    by_session: dict[str, tuple[str, ...]], index: Mapping[str, int]
) -> Iterator[tuple[tuple[str, ...], tuple[date, ...]]]:
    """Runs of consecutive partitions (sessions, placed by `index`) needing the same assets."""
    run: list[str] = []
    for key in sorted(by_session):
        if run and (index[key] != index[run[-1]] + 1 or by_session[key] != by_session[run[-1]]):
            yield by_session[run[-1]], tuple(map(date.fromisoformat, run))
            run = []
        run.append(key)
    if run:
        yield by_session[run[-1]], tuple(map(date.fromisoformat, run))


def _object_of(asset: str, session: date) -> str:
    """The key of the object `asset` writes for `session`: the session's own, or its month's
    (a compacted month is rewritten when one of its sessions is)."""
    found = dataset_of_asset(asset)
    if found.grain == "month":
        return month_key(found.name, session)
    return day_key(found.name, session)


def _held(lake: ObjectStore, key: str) -> bool:
    """Whether the lake holds `key`, learnt by listing its folder (as `read_if_present`)."""
    return key in lake.keys(key.rpartition("/")[0] + "/")


def _chunks(run: Refresh, size: int) -> Iterator[Refresh]:
    for start in range(0, len(run.sessions), size):
        yield Refresh(run.job, run.assets, run.sessions[start : start + size])


def refresh_after(
    settings: Settings,
    job: str,
    written: Collection[date],
    instance: DagsterInstance,
    progress: IO[str] | None = None,
) -> Refreshed:
    """Re-materialise, in `instance`, what reads the sessions `written` by runs of `job` (its
    whole selection); nothing written, nothing refreshed. A progress bar on `progress`."""
    if not written:
        return Refreshed({}, [])
    from marketdata_assets.definitions import build_definitions

    defs = build_definitions(settings)
    materialised = {key.to_user_string() for key in job_assets(defs)[job]}
    runs = plan_refresh(defs, stores.lake_store(settings), materialised, written, SESSIONS_PER_RUN)
    bar = Progress(sum(len(run.sessions) for run in runs), progress)
    refreshed = refresh(settings, defs, runs, instance, bar)
    if runs:
        bar.close()
    return refreshed


def refresh(
    settings: Settings,
    defs: Definitions,
    runs: Sequence[Refresh],
    instance: DagsterInstance,
    progress: Progress,
) -> Refreshed:
    """Execute `runs` in `instance`, each an asset selection over its partition range."""
    assets: dict[str, list[str]] = {}
    failed: list[dict[str, str]] = []
    for run in runs:
        error = _execute(defs.resolve_job_def(run.job), settings, run, instance)
        keys = [session.isoformat() for session in run.sessions]
        if error is None:
            for asset in run.assets:
                assets.setdefault(asset, []).extend(keys)
        else:
            line = f"refreshing {', '.join(run.assets)}: {error}"
            failed += [{"session": key, "error": line} for key in keys]
        progress.advance(len(keys), 0)
    return Refreshed({asset: sorted(keys) for asset, keys in assets.items()}, failed)


def _execute(
    job: JobDefinition, settings: Settings, run: Refresh, instance: DagsterInstance
) -> str | None:
    result = job.execute_in_process(
        run_config={"loggers": {"console": {"config": {"log_level": settings.log_level}}}},
        instance=instance,
        tags={RANGE_START: run.sessions[0].isoformat(), RANGE_END: run.sessions[-1].isoformat()},
        asset_selection=[AssetKey(asset) for asset in run.assets],
        raise_on_error=False,
    )
    return None if result.success else failure_line(result)


def refreshed_line(sessions: Sequence[str]) -> str | None:
    """The text summary's one line: the later sessions re-materialised (none: no line)."""
    if not sessions:
        return None
    shown = sessions[0] if len(sessions) == 1 else f"{sessions[0]}..{sessions[-1]}"
    return (
        f"refreshed {len(sessions)} later session{'' if len(sessions) == 1 else 's'} whose "
        f"windows read the sessions written: {shown}"
    )
