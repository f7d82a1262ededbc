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

    def get(self, key: str) -> bytes:
        """The object at `key`; FileNotFoundError when there is none."""
        ...

    def keys(self, prefix: str) -> list[str]: ...


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
