"""Byte stores behind the lake. Every put is atomic: an object is whole or absent."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol


class ObjectStore(Protocol):
    """Where lake objects live: a local folder or an S3 bucket."""

    def put(self, key: str, body: bytes) -> str:
        """Store `body` at `key`, replacing any object there; returns where it went."""
        ...

    def get(self, key: str) -> bytes: ...

    def keys(self, prefix: str) -> list[str]: ...


def read_if_present(store: ObjectStore, key: str) -> bytes | None:
    """The object at `key`, or None when there is none. Absence is learnt by listing the key's
    folder, never from a failed read: S3 answers 403, not 404, to a reader whose listing is
    limited to some prefixes."""
    folder = key.rpartition("/")[0] + "/"
    return store.get(key) if key in store.keys(folder) else None


class LocalObjectStore:
    """Objects as files under a root folder."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()) or ".." in key.split("/"):
            raise ValueError(f"lake key {key!r}: must stay inside {self.root}")
        return path

    def put(self, key: str, body: bytes) -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target, then rename: a crash leaves the old object or none, never half.
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return str(path)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def keys(self, prefix: str) -> list[str]:
        base = self.root.resolve()
        return sorted(
            p.relative_to(base).as_posix()
            for p in base.glob(f"{prefix}**/*")
            if p.is_file() and not p.name.startswith(".")
        )
