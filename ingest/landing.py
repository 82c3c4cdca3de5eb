"""The landing zone: the change feed as Parquet files, each named by the seq window it holds.

`<data dir>/landing/inbox_events/events-<first seq>-<last seq>.parquet`, zero-padded so names sort
in seq order; the warehouse reads them through one view, `raw.inbox_events`. Writing 25 M events
into a DuckDB table cost 32 s by itself, and DuckDB scans these files as fast as a table.

Crash safety rests on three rules. A file appears whole: it is written under a temporary name,
synced, then renamed. A new file starts after the highest seq landed, so it never overlaps another.
A compaction writes the union of some files the same way before removing them, so for a moment a
file covers others; opening the zone removes covered files and temporary ones. Whatever instant a
crash hits, the next pull finds every seq at most once and resumes after the highest one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

FILE_GLOB = "events-*.parquet"
_FILE_NAME = re.compile(r"events-(\d{12})-(\d{12})\.parquet")
_TEMP_SUFFIX = ".part"
# How landed files are compressed when this side writes them (a compaction, a page that needed
# casting); pages the feed sends in the contract's types are landed byte for byte.
COMPRESSION = "snappy"
# Compaction: incremental runs (every 10 minutes) each land a file of a few thousand events.
# Once more than MAX_SMALL_FILES cover fewer than SMALL_FILE_SEQS seqs (half a full feed page),
# consecutive small files are merged into files of up to MERGED_FILE_SEQS (a full page), so a
# year of runs reads like a full pull, files of about a page. A merge of 17 files of 17 000
# events took 1.4 s on a busy machine, once every 17 runs; pages of a full pull are never merged.
MAX_SMALL_FILES = 16
SMALL_FILE_SEQS = 250_000
MERGED_FILE_SEQS = 500_000
# A merge streams through DuckDB; this bounds it beside the pipeline's other work.
COMPACT_MEMORY_LIMIT = "1GB"


class LandingError(RuntimeError):
    """The landing zone holds files this module did not put there, or overlapping ones."""


@dataclass(frozen=True)
class LandedFile:
    first_seq: int
    last_seq: int
    path: Path

    @property
    def seqs(self) -> int:
        """Seqs the file's window spans (its event count: the feed's seqs are dense)."""
        return self.last_seq - self.first_seq + 1


def landing_dir(data_dir: Path) -> Path:
    """Where the feed lands under a data directory (`BANDEJA_DATA_DIR`)."""
    return Path(data_dir) / "landing" / "inbox_events"


def file_name(first_seq: int, last_seq: int) -> str:
    return f"events-{first_seq:012d}-{last_seq:012d}.parquet"


def landed_files(directory: Path) -> list[LandedFile]:
    """The landed files in seq order (a covering file before the files it covers)."""
    files = []
    for path in Path(directory).glob(FILE_GLOB):
        match = _FILE_NAME.fullmatch(path.name)
        if not match:
            raise LandingError(
                f"{path}: not a landed feed file (expected events-<12 digits>-<12 digits>"
                ".parquet); the raw view would read it, so move it away"
            )
        files.append(LandedFile(int(match[1]), int(match[2]), path))
    return sorted(files, key=lambda file: (file.first_seq, -file.last_seq))


class LandingZone:
    """The landing directory held for writing: `with LandingZone(path) as zone: ...`.

    Entering takes the directory's lock (one writer at a time, like DuckDB's own files) and
    clears what an interrupted writer left: temporary files and files a compaction had already
    merged. Keep the zone open for the whole pull.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.files: list[LandedFile] = []
        self._lock: contextlib.ExitStack | None = None

    def __enter__(self) -> LandingZone:
        self.directory.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as stack:
            lock = stack.enter_context((self.directory / ".lock").open("a"))
            fcntl.flock(lock, fcntl.LOCK_EX)
            stack.callback(fcntl.flock, lock, fcntl.LOCK_UN)
            self._tidy()
            self._lock = stack.pop_all()
        return self

    def __exit__(self, *_: object) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    @property
    def cursor(self) -> int:
        """The highest seq landed (0 when nothing is): the feed resumes after it."""
        return max((file.last_seq for file in self.files), default=0)

    def temp_path(self) -> Path:
        """A fresh temporary name in the zone: same file system, so the rename is atomic."""
        return self.directory / f".{uuid.uuid4().hex}{_TEMP_SUFFIX}"

    def land(self, temp: Path, first_seq: int, last_seq: int) -> LandedFile:
        """Rename a synced temporary file to the name of its window, after the cursor."""
        if first_seq <= self.cursor or last_seq < first_seq:
            raise LandingError(
                f"refusing to land seqs {first_seq}..{last_seq}: the zone already holds seqs up "
                f"to {self.cursor}"
            )
        landed = LandedFile(first_seq, last_seq, self.directory / file_name(first_seq, last_seq))
        os.replace(temp, landed.path)
        _sync_directory(self.directory)
        self.files.append(landed)
        return landed

    def compact(self) -> int:
        """Merge runs of consecutive small files (see MAX_SMALL_FILES); returns files removed."""
        removed = 0
        for group in merge_groups(self.files):
            self._merge(group)
            removed += len(group)
        return removed

    def _merge(self, group: list[LandedFile]) -> None:
        temp = self.temp_path()
        config = {"memory_limit": COMPACT_MEMORY_LIMIT, "threads": 2}
        try:
            with duckdb.connect(config=config) as con:
                # Files in seq order, each in seq order: DuckDB keeps that order when writing.
                source = con.read_parquet([str(file.path) for file in group])
                source.write_parquet(str(temp), compression=COMPRESSION)
            sync_file(temp)
            first, last = group[0].first_seq, group[-1].last_seq
            merged = LandedFile(first, last, self.directory / file_name(first, last))
            os.replace(temp, merged.path)
            _sync_directory(self.directory)
        finally:
            temp.unlink(missing_ok=True)
        # The merged file covers the group from here on; a crash before these unlinks leaves
        # covered files, which the next `_tidy` removes.
        for file in group:
            file.path.unlink()
        _sync_directory(self.directory)
        start = self.files.index(group[0])
        self.files[start : start + len(group)] = [merged]

    def _tidy(self) -> None:
        for temp in self.directory.glob(f".*{_TEMP_SUFFIX}"):
            temp.unlink()
        kept: list[LandedFile] = []
        for file in landed_files(self.directory):
            if kept and file.last_seq <= kept[-1].last_seq:
                # Inside the previous file's window (sorted by first seq, widest first): a
                # compaction's source whose merged file landed.
                file.path.unlink()
                continue
            if kept and file.first_seq <= kept[-1].last_seq:
                raise LandingError(
                    f"{kept[-1].path.name} and {file.path.name} overlap without one covering "
                    "the other; the zone was changed by hand"
                )
            kept.append(file)
        _sync_directory(self.directory)
        self.files = kept


def merge_groups(files: list[LandedFile]) -> list[list[LandedFile]]:
    """Runs of two or more consecutive small files to merge, each spanning at most
    MERGED_FILE_SEQS; none while MAX_SMALL_FILES or fewer files are small."""
    if sum(file.seqs < SMALL_FILE_SEQS for file in files) <= MAX_SMALL_FILES:
        return []
    groups: list[list[LandedFile]] = []
    run: list[LandedFile] = []
    for file in [*files, None]:
        small = file is not None and file.seqs < SMALL_FILE_SEQS
        if small and run and file.last_seq - run[0].first_seq < MERGED_FILE_SEQS:
            run.append(file)
            continue
        if len(run) > 1:
            groups.append(run)
        run = [file] if small else []
    return groups


def sync_file(path: Path) -> None:
    """Flush a file's data to disk, so a rename never publishes a file a power cut could empty."""
    with path.open("rb") as file:
        os.fsync(file.fileno())


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
