"""Byte stores behind the lake. Every put is atomic: an object is whole or absent.

Readers see a store only through `ObjectStore`: which backend holds the objects is decided once,
in `stores`, and both backends fail the same way (`LakeError`, naming the operation and the key).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol


class LakeError(RuntimeError):
    """A lake operation failed; the message names the operation and the key."""


class ObjectStore(Protocol):
    """Where lake objects live: a local folder or an S3 bucket."""

    def put(self, key: str, body: bytes) -> str:
        """Store `body` at `key`, replacing any object there; returns where it went."""
        ...

    def get(self, key: str) -> bytes:
        """The object at `key`; LakeError when there is none or it cannot be read."""
        ...

    def get_many(self, keys: Sequence[str]) -> list[bytes]:
        """The objects at `keys`, in order, fetched concurrently where that pays (S3)."""
        ...

    def keys(self, prefix: str) -> list[str]:
        """The keys of every object under `prefix`, sorted."""
        ...

    def keys_after(self, prefix: str, start_after: str, limit: int) -> list[str]:
        """At most `limit` keys under `prefix` greater than `start_after`, sorted: the first
        of them in key order, from one bounded listing (S3's StartAfter and MaxKeys)."""
        ...

    def folders(self, prefix: str) -> list[str]:
        """The folders one level under `prefix` (`runs/` → `runs/date=…/`), sorted, each
        ending in `/`: one listing, never of every object below them."""
        ...

    def versions(self, prefix: str) -> dict[str, str]:
        """Each object's key under `prefix` and its version: a token that changes when the
        object is rewritten with other bytes (a file's time, size and inode; an S3 ETag)."""
        ...

    def location(self, key: str) -> str:
        """Where the object at `key` lives, as a command's `--source` takes it (a path, or
        s3://bucket/key)."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The object's file when the store is a folder (tools read it in place); else None."""
        ...


def read_if_present(store: ObjectStore, key: str) -> bytes | None:
    """The object at `key`, or None when there is none. Absence is learnt by listing the key's
    folder, never from a failed read: S3 answers 403, not 404, to a reader whose listing is
    limited to some prefixes."""
    return store.get(key) if present_key(store, (key,)) else None


def present_key(store: ObjectStore, keys: Sequence[str]) -> str | None:
    """The first of `keys` (keys of one folder, as `keys.object_keys` gives) the store holds,
    learnt from one listing of their folder; None when it holds none of them."""
    folder = keys[0].rpartition("/")[0] + "/"
    held = set(store.keys(folder))
    return next((key for key in keys if key in held), None)


class LocalObjectStore:
    """Objects as files under a root folder."""

    def __init__(self, root: Path | str):
        self._root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self._root / key).resolve()
        if not path.is_relative_to(self._root.resolve()) or ".." in key.split("/"):
            raise ValueError(f"lake key {key!r}: must stay inside {self._root}")
        return path

    def _fail(self, operation: str, path: Path, error: OSError) -> LakeError:
        return LakeError(f"local {operation} {path} failed: {error.strerror or error}")

    def put(self, key: str, body: bytes) -> str:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write beside the target, then rename: a crash leaves the old object or none.
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        except OSError as error:
            raise self._fail("write", path, error) from error
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except OSError as error:
            Path(temp).unlink(missing_ok=True)
            raise self._fail("write", path, error) from error
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return str(path)

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except OSError as error:
            raise self._fail("read", path, error) from error

    def get_many(self, keys: Sequence[str]) -> list[bytes]:
        return [self.get(key) for key in keys]  # a local read is fast: one at a time

    def keys(self, prefix: str) -> list[str]:
        return sorted(self._files(prefix))

    def keys_after(self, prefix: str, start_after: str, limit: int) -> list[str]:
        return [key for key in self.keys(prefix) if key > start_after][:limit]

    def folders(self, prefix: str) -> list[str]:
        base = self._base()
        parent, _, start = prefix.rpartition("/")
        folder = self._path(parent) if parent else base
        try:
            names = [p.name for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
        except OSError as error:
            raise self._fail("list", folder, error) from error
        head = f"{parent}/" if parent else ""
        return sorted(
            f"{head}{name}/" for name in names if name.startswith(start) and name[0] != "."
        )

    def versions(self, prefix: str) -> dict[str, str]:
        found = {}
        for key, path in sorted(self._files(prefix).items()):
            try:
                stat = os.stat(path)
            except FileNotFoundError:  # deleted since it was listed
                continue
            except OSError as error:
                raise self._fail("stat", Path(path), error) from error
            found[key] = f"{stat.st_mtime_ns}-{stat.st_size}-{stat.st_ino}"
        return found

    def location(self, key: str) -> str:
        return str(self._path(key))

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def _base(self) -> Path:
        """The root folder (absent: an empty lake); LakeError when it is something else."""
        base = self._root.resolve()
        if base.exists() and not base.is_dir():
            raise LakeError(f"local list {base} failed: not a folder")
        return base

    def _files(self, prefix: str) -> dict[str, str]:
        """Each object's key under `prefix` and its file's path (temporary `.`-files are no
        objects)."""
        base = self._base()
        parent, _, start = prefix.rpartition("/")
        top = str(self._path(parent)) if parent else str(base)
        found: dict[str, str] = {}

        # Directory entries know their kind, and keys are built as strings: no stat and no
        # Path per file (a glob took ~10 ms over a year of session folders).
        def walk(folder: str, within: str, first: str) -> None:
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if not entry.name.startswith(first):
                            continue
                        if entry.is_dir():
                            walk(entry.path, f"{within}{entry.name}/", "")
                        elif entry.name[0] != "." and entry.is_file():
                            found[within + entry.name] = entry.path
            except (FileNotFoundError, NotADirectoryError):  # none, or deleted while listed
                return
            except OSError as error:
                raise self._fail("list", base / prefix, error) from error

        walk(top, f"{parent}/" if parent else "", start)
        return found
