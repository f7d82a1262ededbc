"""Price providers and history sources: one package per vendor, registered once.

Each `providers/<vendor>/` package exports one `VendorSpec` (`spec.py`): its name, its quote
capability (the tick provider and the parser of its envelope bodies), its history capability
(the history source and the reader of its bodies), its settings section and its flags. The
registry (`registry.py`) lists those specs, one line per vendor, and everything else asks it.
The modules beside the vendor packages are shared machinery and name no vendor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Provider(Protocol):
    """Fetches the raw payload for one tick: one JSON record per line, bytes untouched."""

    name: str

    def fetch(self, tick: datetime) -> bytes: ...
