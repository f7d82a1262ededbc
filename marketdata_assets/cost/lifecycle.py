"""The lake's storage month by month under the lifecycle rules `infra/storage.tf` declares.

Each day adds what the ticks write under each prefix; an object moves to Standard-IA when it
reaches its rule's transition age and is at least 128 KB (S3 does not transition smaller
objects: a per-minute object under 128 KB stays in Standard until it expires, so for small
objects only expiry saves anything), and is gone at its expiry age. Bytes deleted by the tick
(its lease) stay as noncurrent versions for the noncurrent rule's days (the bucket is
versioned). A month's bill is the average of its days' stored bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from marketdata_assets.cost.infra import Block, Infra

DAYS_PER_MONTH = 365.25 / 12
GIB = 2**30
MIN_TRANSITION_BYTES = 128 * 1024  # S3's default minimum object size for a transition


@dataclass(frozen=True)
class Rule:
    id: str
    prefix: str  # "" for every object
    transition_days: float | None = None
    storage_class: str | None = None
    expiry_days: float | None = None
    noncurrent_days: float | None = None


def rules(infra: Infra) -> list[Rule]:
    """The lake bucket's lifecycle rules, as `aws_s3_bucket_lifecycle_configuration.lake`
    declares them."""
    found = []
    for block in infra.resource("aws_s3_bucket_lifecycle_configuration", "lake").blocks("rule"):
        where = f"{infra.folder}/storage.tf lifecycle rule"
        rule_id = infra.string(block.attribute("id") or '""', where)
        where = f"{where} {rule_id!r}"
        if infra.string(block.attribute("status") or '"Enabled"', where) != "Enabled":
            continue
        filtered = block.block("filter")
        prefix = filtered.attribute("prefix") if filtered else None
        transition, expiration = block.block("transition"), block.block("expiration")
        noncurrent = block.block("noncurrent_version_expiration")

        def number(b: Block | None, name: str, where: str = where) -> float | None:
            value = b.attribute(name) if b is not None else None
            return infra.number(value, where) if value is not None else None

        found.append(
            Rule(
                id=rule_id,
                prefix=infra.string(prefix, where) if prefix else "",
                transition_days=number(transition, "days"),
                storage_class=infra.string(transition.attribute("storage_class") or '""', where)
                if transition
                else None,
                expiry_days=number(expiration, "days"),
                noncurrent_days=number(noncurrent, "noncurrent_days"),
            )
        )
    return found


def _applying(prefix: str, found: list[Rule]) -> list[Rule]:
    return [r for r in found if prefix.startswith(r.prefix)]


def expiry_days(prefix: str, found: list[Rule]) -> float | None:
    """The age at which objects under `prefix` expire (the earliest rule wins); None: never."""
    ages = [r.expiry_days for r in _applying(prefix, found) if r.expiry_days is not None]
    return min(ages) if ages else None


def transition(prefix: str, object_bytes: float, found: list[Rule]) -> tuple[float, str] | None:
    """(age, storage class) of the transition objects of this size under `prefix` make."""
    if object_bytes < MIN_TRANSITION_BYTES:
        return None
    moves = [
        (r.transition_days, r.storage_class or "")
        for r in _applying(prefix, found)
        if r.transition_days is not None
    ]
    return min(moves) if moves else None


def noncurrent_days(found: list[Rule]) -> float | None:
    days = [r.noncurrent_days for r in found if r.prefix == "" and r.noncurrent_days is not None]
    return min(days) if days else None


@dataclass(frozen=True)
class Stored:
    """A month's storage: GiB-months per storage class, and the objects transitioned."""

    gib_months: dict[str, float]
    transitions: float


def month(
    daily_bytes: dict[str, float],
    object_bytes: dict[str, float],
    daily_objects: dict[str, float],
    deleted_daily_bytes: float,
    found: list[Rule],
    number: int,
) -> Stored:
    """Month `number` (1 = the first month of ticks) of prefixes each written `daily_bytes`
    a day in objects of `object_bytes`, and `deleted_daily_bytes` a day deleted."""
    first, last = round((number - 1) * DAYS_PER_MONTH), round(number * DAYS_PER_MONTH)
    days = range(first, last)
    classes: dict[str, float] = {"STANDARD": 0.0}
    transitions = 0.0
    for prefix, per_day in daily_bytes.items():
        expires = expiry_days(prefix, found)
        moves = transition(prefix, object_bytes.get(prefix, 0.0), found)
        for day in days:
            ages = day + 1 if expires is None else min(day + 1, expires)
            moved = 0.0 if moves is None else max(0.0, ages - moves[0])
            classes["STANDARD"] += per_day * (ages - moved) / len(days)
            if moves is not None:
                classes[moves[1]] = classes.get(moves[1], 0.0) + per_day * moved / len(days)
                if day >= moves[0] and (expires is None or day < expires):
                    transitions += daily_objects.get(prefix, 0.0)
    kept = noncurrent_days(found)
    for day in days:
        ages = day + 1 if kept is None else min(day + 1, kept)
        classes["STANDARD"] += deleted_daily_bytes * ages / len(days)
    return Stored({name: size / GIB for name, size in classes.items()}, transitions)
