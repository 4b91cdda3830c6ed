"""The witness: each signed checkpoint published outside the database.

A database superuser can delete the newest audit entries, move the chain's
head back and delete the checkpoints that named them: the chain that is left
verifies.  What it cannot do is unwrite what was sent elsewhere.  Every
checkpoint the service signs (``app.audit.checkpoints``) is also published to
a witness, chosen by ``SEXTO_AUDIT_WITNESS``:

* ``file:<path>``: one JSON line per checkpoint, appended (``O_APPEND``, one
  ``write`` per line, then ``fsync``); the file is never rewritten nor
  truncated.  Several processes may append to it at once: each line is one
  write at the end of the file, and a checkpoint published twice is read
  once.  An incomplete last line (a write under way, or cut short by a crash)
  is not read; any other line that is not a record is reported.
* ``directory:<path>``: one file per checkpoint, ``<chain>/<seq>-<entry
  hash>.json``, written under a temporary name and then linked to its own
  name, which fails if the name exists: a file once there is never replaced,
  and two processes publishing the same checkpoint leave one file.
* ``none``: nothing is published (refused in production).

Records are per chain, keyed by the chain's name: the latest one of a chain
is what verification holds the chain to (``CheckpointSigner.verify``).  The
point is where the path leads: storage that the database administrators
cannot rewrite (another host or account, an append-only or object-lock
mount).  How, in docs/audit.md.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

# A record's fields, as the service writes them (JSON, keys sorted).
_FIELDS = ("chain", "seq", "entry_hash", "issued_at", "key_id", "signature")
# What a chain's name may be to name a folder of the directory witness.
_CHAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class WitnessRecord:
    """One signed checkpoint, as published: what ``signed_message`` signs,
    the key's id and the signature (base64)."""

    chain: str
    seq: int
    entry_hash: str
    issued_at: str
    key_id: str
    signature: str

    def line(self) -> bytes:
        return (json.dumps(asdict(self), sort_keys=True, separators=(",", ":")) + "\n").encode()

    @classmethod
    def parse(cls, text: bytes) -> WitnessRecord:
        """A record from its JSON; ValueError when it is not one."""
        data = json.loads(text)
        if not isinstance(data, dict) or set(data) != set(_FIELDS):
            raise ValueError("not a witness record")
        if not isinstance(data["seq"], int) or isinstance(data["seq"], bool) or data["seq"] < 1:
            raise ValueError("not a witness record")
        if not all(isinstance(data[name], str) for name in _FIELDS if name != "seq"):
            raise ValueError("not a witness record")
        return cls(**data)


@dataclass
class WitnessReading:
    """Every record a witness holds, and what it holds that is not one."""

    records: list[WitnessRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Witness(Protocol):
    """Where signed checkpoints are published, outside the database."""

    kind: str

    def publish(self, records: Sequence[WitnessRecord]) -> None: ...

    def read(self) -> WitnessReading: ...


class NoWitness:
    """Publishes nothing (development and tests only)."""

    kind = "none"

    def publish(self, records: Sequence[WitnessRecord]) -> None:  # noqa: ARG002 (the interface's)
        return None

    def read(self) -> WitnessReading:
        return WitnessReading()


class FileWitness:
    """One JSON line per checkpoint, appended to one file."""

    kind = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def publish(self, records: Sequence[WitnessRecord]) -> None:
        if not records:
            return
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            for record in records:
                line = record.line()
                # One write per line: with O_APPEND, each lands whole at the
                # end of the file, whoever else appends at the same moment.
                if os.write(descriptor, line) != len(line):
                    raise OSError(f"short write to the audit witness {self.path}")
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def read(self) -> WitnessReading:
        reading = WitnessReading()
        try:
            content = self.path.read_bytes()
        except FileNotFoundError:
            return reading
        lines = content.split(b"\n")
        lines.pop()  # after the last newline: nothing, or a line still being written
        for number, line in enumerate(lines, start=1):
            try:
                reading.records.append(WitnessRecord.parse(line))
            except ValueError:
                reading.problems.append(f"witness line {number}: not a checkpoint record")
        return reading


class DirectoryWitness:
    """One file per checkpoint, in a folder per chain."""

    kind = "directory"

    def __init__(self, path: Path) -> None:
        self.path = path

    def publish(self, records: Sequence[WitnessRecord]) -> None:
        for record in records:
            if not _CHAIN_NAME.match(record.chain):
                raise ValueError("a chain name the directory witness cannot use as a folder name")
            folder = self.path / record.chain
            folder.mkdir(parents=True, exist_ok=True)
            final = folder / f"{record.seq:020d}-{record.entry_hash}.json"
            temporary = folder / f".{final.name}.{secrets.token_hex(8)}.tmp"
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o640)
            try:
                os.write(descriptor, record.line())
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            try:
                os.link(temporary, final)  # never replaces a file already there
            except FileExistsError:
                pass  # the same checkpoint, published by another process
            finally:
                temporary.unlink()
            _sync_folder(folder)

    def read(self) -> WitnessReading:
        reading = WitnessReading()
        if not self.path.is_dir():
            return reading
        for folder in sorted(self.path.iterdir()):
            if not folder.is_dir():
                continue
            for item in sorted(folder.iterdir()):
                if item.name.startswith("."):
                    continue  # a record being written
                where = f"witness file {folder.name}/{item.name}"
                try:
                    record = WitnessRecord.parse(item.read_bytes())
                except (ValueError, OSError):
                    reading.problems.append(f"{where}: not a checkpoint record")
                    continue
                if record.chain != folder.name or item.name != f"{record.seq:020d}-{record.entry_hash}.json":
                    reading.problems.append(f"{where}: holds a checkpoint of another name")
                    continue
                reading.records.append(record)
        return reading


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def witness_from(setting: str) -> Witness:
    """The witness a ``SEXTO_AUDIT_WITNESS`` value names."""
    kind, _, place = setting.partition(":")
    if kind == "none" and not place:
        return NoWitness()
    if kind == "file" and place:
        return FileWitness(Path(place))
    if kind == "directory" and place:
        return DirectoryWitness(Path(place))
    raise ValueError("SEXTO_AUDIT_WITNESS is none, file:<path> or directory:<path>")
