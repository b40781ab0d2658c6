"""Reading IATI activity files safely and in constant memory.

A file is streamed with ``lxml.etree.iterparse``: each ``<iati-activity>`` is read when
its end tag arrives, turned into rows (:mod:`ssaplan.ingest.iati_activity`) and
dropped, so memory stays flat whatever the file size. The parser never resolves
entities, never touches the network and keeps libxml2's size limits
(``huge_tree=False``); a document that declares a DTD (``<!DOCTYPE``) is refused before
its first activity is read, which defeats external-entity (XXE) and entity-expansion
("billion laughs") attacks.

Versions: the ``version`` attribute of ``<iati-activities>`` is read per file.
Supported are 1.01-1.05 and 2.01-2.03 (and the pre-standard 1.0 drafts that real
publishers still serve). A version number outside that list is an error. A file with
no version, or with a placeholder that is not a version number (the IATI schema tests
use ``version="xx"``), is read by structure and reported as ``1.0x (inferred)`` or
``2.0x (inferred)``: 2.x wraps text in ``<narrative>``, 1.x does not.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from lxml import etree

import ssaplan
from ssaplan.core.errors import Detail, Invalid
from ssaplan.ingest.currency import UsdConverter
from ssaplan.ingest.iati_activity import (
    XML_LANG,
    ActivityProblem,
    ActivityReader,
    ActivityRecord,
    line_of,
)
from ssaplan.reference.catalog import Catalog, get_catalog

try:
    import fcntl
except ImportError:  # not on Windows: the pipe keeps its default size
    fcntl = None  # type: ignore[assignment]

SUPPORTED_VERSIONS = ("1.00", "1.01", "1.02", "1.03", "1.04", "1.05", "2.01", "2.02", "2.03")
_NUMERIC = re.compile(r"^\s*(\d+)(?:\.(\d{1,2}))?\s*$")


def normalize_version(raw: str | None) -> str | None:
    """The supported version ``raw`` names (``"1.0"`` -> ``"1.00"``), or ``None`` when
    ``raw`` is absent or not a version number at all.

    Raises :class:`ValueError` for a version number ssaplan does not read.
    """
    if raw is None or not raw.strip():
        return None
    m = _NUMERIC.match(raw)
    if m is None:
        return None
    version = f"{int(m.group(1))}.{int(m.group(2) or 0):02d}"
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(version)
    return version


def infer_version(activity: etree._Element) -> str:
    """``2.0x (inferred)`` if the activity uses ``<narrative>``, else ``1.0x (inferred)``."""
    for _ in activity.iter("narrative"):
        return "2.0x (inferred)"
    return "1.0x (inferred)"


def file_error(source: str, line: int | str, msg: str, what: str = "") -> Invalid:
    """The error for a file that cannot be read at all: names the file and line."""
    where: tuple[str | int, ...] = (source, f"line {line}" if isinstance(line, int) else line)
    return Invalid(
        f"cannot import {source}: {what or 'not a readable IATI file'}", [Detail(where, msg)]
    )


@dataclass
class FileInfo:
    """What was learned about a file while reading it."""

    source: str
    size: int
    version: str | None = None
    version_note: str | None = None


class IatiFile:
    """One IATI activity file, read as a stream of records and problems.

    Iterating :meth:`activities` yields an :class:`ActivityRecord` or an
    :class:`ActivityProblem` per activity, in file order; a problem with the file as a
    whole (malformed XML, a DTD, an unsupported version, a wrong root element, a wrong
    encoding) raises :class:`~ssaplan.core.errors.Invalid` naming the file and line.
    ``progress(n)`` is called with the number of bytes read since the last call.
    """

    def __init__(
        self,
        path: Path,
        *,
        catalog: Catalog,
        converter: UsdConverter,
        source: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.path = path
        self.info = FileInfo(source or path.name, path.stat().st_size if path.exists() else 0)
        self.catalog = catalog
        self.converter = converter
        self.progress = progress

    def activities(self) -> Iterator[ActivityRecord | ActivityProblem]:
        """Each activity, in file order, as rows or as its problems.

        A file of :data:`WORKER_MIN_BYTES` or more is parsed and read by a second
        process (:func:`_worker_main`) while this one writes what it has already read:
        the two halves of the work then run on two cores. Records, problems, errors
        and progress are the same either way.
        """
        source = self.info.source
        if not self.path.is_file():
            raise file_error(source, 0, "no such file", "file not found")
        if self.info.size == 0:
            raise file_error(source, 1, "the file is empty", "empty file")
        if self.info.size >= WORKER_MIN_BYTES and self._worker_reads_alike() and spare_core():
            worker = _Worker.start(self.path, source)
            if worker is not None:
                yield from self._from_worker(worker)
                return
        yield from self.read_here()

    def read_here(self) -> Iterator[ActivityRecord | ActivityProblem]:
        """Each activity, parsed and read in this process."""
        with self.path.open("rb") as raw:
            stream: Any = _Counting(raw, self.progress)  # file-like: lxml only calls read()
            yield from self._stream(stream)

    def _worker_reads_alike(self) -> bool:
        # The worker builds its own catalog and converter: the shipped ones.
        return self.catalog is get_catalog() and type(self.converter) is UsdConverter

    def _from_worker(self, worker: _Worker) -> Iterator[ActivityRecord | ActivityProblem]:
        with worker:
            for message in worker.messages():
                kind = message[0]
                _, read, self.info.version, self.info.version_note = message[:4]
                if read and self.progress is not None:
                    self.progress(read)
                if kind == "invalid":
                    _, _, _, _, text, details = message
                    raise Invalid(text, [Detail(tuple(loc), msg) for loc, msg in details])
                if kind == "end":
                    return
                for item in message[4]:
                    if item[0] == _RECORD:
                        yield ActivityRecord(*item[1:])
                    else:
                        _, identifier, line, details = item
                        yield ActivityProblem(
                            identifier, line, [Detail(tuple(loc), msg) for loc, msg in details]
                        )

    def _stream(self, stream: Any) -> Iterator[ActivityRecord | ActivityProblem]:
        source = self.info.source
        events = etree.iterparse(
            stream,
            events=("start", "end"),
            tag=("iati-activities", "iati-activity"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        reader: ActivityReader | None = None
        root_checked = False
        depth = 0
        try:
            for event, el in events:
                if not root_checked:
                    root_checked = True
                    self._check_root(el)
                    if el.tag == "iati-activities":
                        reader = ActivityReader(
                            source, self.catalog, self.converter, el.get(XML_LANG)
                        )
                    else:
                        reader = ActivityReader(source, self.catalog, self.converter)
                if el.tag == "iati-activities":
                    continue
                if event == "start":
                    depth += 1
                    continue
                depth -= 1
                if depth > 0:
                    continue  # an activity nested in an activity: part of its parent
                if self.info.version is None:
                    self.info.version = infer_version(el)
                assert reader is not None  # noqa: S101 - set with the root, just above
                yield reader.read(el)
                # Free what was read: the element itself and everything before it.
                el.clear(keep_tail=False)
                parent = el.getparent()
                if parent is not None:
                    while el.getprevious() is not None:
                        del parent[0]
        except etree.XMLSyntaxError as exc:
            line = exc.lineno or 0
            if isinstance(stream, _Counting) and stream.eof and line >= stream.last_line() - 1:
                raise file_error(
                    source,
                    line,
                    f"{(exc.msg or str(exc)).strip()}: the file ends in the middle of the XML "
                    "(a truncated download or copy?); fetch it again",
                    "truncated file",
                ) from None
            raise _syntax_error(source, exc) from None
        if not root_checked:
            root = getattr(events, "root", None)
            tag = root.tag if root is not None else "?"
            if root is not None:
                self._check_doctype(root)
            raise file_error(
                source,
                (line_of(root) or 1) if root is not None else 1,
                f"the root element is <{tag}>, not <iati-activities>: this is not an IATI "
                "activity file (organisation files are not imported)",
                "not an IATI activity file",
            )

    def _check_root(self, el: etree._Element) -> None:
        source = self.info.source
        self._check_doctype(el)
        root = el.getroottree().getroot()
        if root.tag not in ("iati-activities", "iati-activity"):
            raise file_error(
                source,
                line_of(root) or 1,
                f"the root element is <{root.tag}>, not <iati-activities>",
                "not an IATI activity file",
            )
        raw = root.get("version") if root.tag == "iati-activities" else None
        try:
            self.info.version = normalize_version(raw)
        except ValueError:
            raise file_error(
                source,
                line_of(root) or 1,
                f"IATI version {raw!r} is not supported: ssaplan reads versions "
                "1.01-1.05 and 2.01-2.03 (convert the file, or check the version attribute)",
                "unsupported IATI version",
            ) from None
        if raw is not None and raw.strip() and self.info.version is None:
            self.info.version_note = f"version {raw!r} is not a version number: read by structure"

    def _check_doctype(self, el: etree._Element) -> None:
        docinfo = el.getroottree().docinfo
        doctype = getattr(docinfo, "doctype", "")  # not in lxml-stubs, always in lxml
        if doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
            raise file_error(
                self.info.source,
                1,
                "the file declares a DTD (<!DOCTYPE ...>). DTDs and entity declarations are "
                "refused because they enable external-entity (XXE) and entity-expansion "
                "attacks; IATI files never need one: remove the DOCTYPE",
                "DTD not allowed",
            )


def _syntax_error(source: str, exc: etree.XMLSyntaxError) -> Invalid:
    msg = (exc.msg or str(exc)).strip()
    line = exc.lineno or (exc.position[0] if exc.position else 0)
    lowered = msg.lower()
    if "encoding" in lowered or "utf-8" in lowered or "not proper" in lowered:
        return file_error(
            source,
            line,
            f"{msg}: the bytes do not match the declared encoding (UTF-8 when none is "
            "declared); re-save the file as UTF-8 or declare its real encoding, e.g. "
            '<?xml version="1.0" encoding="ISO-8859-1"?>',
            "wrong encoding",
        )
    if "entity" in lowered:
        return file_error(
            source,
            line,
            f"{msg}: entity references are not allowed (no DTD may define them); write the "
            "character itself or a character reference such as &#233;",
            "entity reference",
        )
    if "premature end" in lowered or "end of data" in lowered or "not closed" in lowered:
        return file_error(
            source,
            line,
            f"{msg}: the file ends in the middle of the XML (truncated download or copy?); "
            "fetch it again",
            "truncated file",
        )
    return file_error(source, line, f"{msg}: fix the XML at this line", "malformed XML")


class _Counting:
    """A binary stream that reports how many bytes were read (for the progress bar) and
    counts lines and the end of the file (to tell a truncated file from a broken one)."""

    def __init__(self, raw: IO[bytes], progress: Callable[[int], None] | None) -> None:
        self.raw = raw
        self.progress = progress
        self.newlines = 0
        self.last_byte = b""
        self.eof = False

    def read(self, size: int = -1) -> bytes:
        """Read like the wrapped stream, counting bytes and lines."""
        data = self.raw.read(size)
        if data:
            self.newlines += data.count(b"\n")
            self.last_byte = data[-1:]
            if self.progress is not None:
                self.progress(len(data))
        else:
            self.eof = True
        return data

    def last_line(self) -> int:
        """The number of the file's last line (known once the end was read)."""
        return self.newlines + (0 if self.last_byte == b"\n" else 1)


# -- the second process ---------------------------------------------------------------
WORKER_MIN_BYTES = 16 * 1024 * 1024  # below this, starting a process costs more than it saves
WORKER_BATCH = 100  # activities per message from the worker
_RECORD, _PROBLEM = 0, 1
_FRAME = struct.Struct("<I")
_PIPE_BYTES = 1 << 20  # room for ~800 activities while the writer is busy in the database


IDLE_SAMPLE_S = 0.05  # how long spare_core watches the processor counters
_PROC_STAT = Path("/proc/stat")


def _cpu_ticks() -> tuple[int, int] | None:
    """(idle, total) jiffies of every core since boot, from /proc/stat (Linux)."""
    try:
        first = _PROC_STAT.read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if not first or first[0] != "cpu":
        return None
    ticks = [int(x) for x in first[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return idle, sum(ticks)


def idle_cores(sample_s: float = IDLE_SAMPLE_S) -> float | None:
    """How many cores were idle over the last ``sample_s`` seconds (``None`` where the
    counters cannot be read)."""
    before = _cpu_ticks()
    if before is None:
        return None
    time.sleep(sample_s)
    after = _cpu_ticks()
    if after is None or after[1] <= before[1]:
        return None
    cores = os.cpu_count() or 1
    return cores * (after[0] - before[0]) / (after[1] - before[1])


def spare_core() -> bool:
    """Whether a core is idle for the reader process, now.

    On a busy machine the two processes queue for the same cores and the pipe between
    them is pure cost: ``bench_ingest`` measured the two-process import at 0.36 of a
    bare parse with the load average at 7 on 2 cores, the one-process one at 0.66. The
    machine is watched for :data:`IDLE_SAMPLE_S` (most of a core idle while this
    process waits), not judged by the load average: that is a minute's mean, still
    high just after other work ended (a benchmark's own previous run kept it near 1 on
    2 cores, and every large import was read in one process). Without the counters
    (not Linux), the load average decides: below cores - 1.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2:
        return False
    idle = idle_cores()
    if idle is not None:
        return idle >= 0.8
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available: assume idle
        return True
    return load < (cores or 1) - 1


class _Worker:
    """A child Python process that reads one file and sends what it read down a pipe.

    Messages are ``marshal``-ed tuples of plain values, each prefixed with its length:
    ``("batch", bytes_read, version, version_note, items)``, then ``("end", ...)`` or
    ``("invalid", ..., message, details)`` (the four first fields as in a batch). The
    child is this module run with ``-m`` (no ``multiprocessing``: no re-import of the
    caller's ``__main__``, safe from threads).
    It ends when the file does, when its pipe closes (this process stopped reading or
    died: its next write fails) or when it is killed; whatever was read is then
    discarded with the caller's transaction.
    """

    def __init__(self, process: subprocess.Popen[bytes], errors: IO[bytes]) -> None:
        self.process = process
        self.errors = errors

    @classmethod
    def start(cls, path: Path, source: str) -> _Worker | None:
        """Start a worker for ``path``; ``None`` if it cannot start (then read here)."""
        root = str(Path(ssaplan.__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the worker
        try:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "ssaplan.ingest.iati", "--worker", source, str(path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=env,
                bufsize=1 << 16,
            )
        except OSError:
            errors.close()
            return None
        assert process.stdout is not None  # noqa: S101 - stdout=PIPE, just above
        with contextlib.suppress(AttributeError, OSError):  # Linux only; a hint
            fcntl.fcntl(process.stdout.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        worker = cls(process, errors)
        if worker._receive() != ("ready",):
            worker.close()  # it could not even import ssaplan: read in this process
            return None
        return worker

    def messages(self) -> Iterator[tuple[Any, ...]]:
        """Every message until ``end`` or ``invalid``; an error if the worker died."""
        while True:
            message = self._receive()
            if message is None:
                code = self.process.wait()
                self.errors.seek(0)
                tail = self.errors.read()[-2000:].decode("utf-8", "replace").strip()
                raise RuntimeError(
                    f"the IATI reader process ended before the end of the file (exit code "
                    f"{code}); nothing was written" + (f": {tail}" if tail else "")
                )
            yield message
            if message[0] in ("end", "invalid"):
                return

    def _receive(self) -> tuple[Any, ...] | None:
        stdout = self.process.stdout
        assert stdout is not None  # noqa: S101 - stdout=PIPE
        head = stdout.read(_FRAME.size)
        if len(head) < _FRAME.size:
            return None
        (size,) = _FRAME.unpack(head)
        body = stdout.read(size)
        if len(body) < size:
            return None
        message: tuple[Any, ...] = marshal.loads(body)  # noqa: S302 - our own child's data
        return message

    def close(self) -> None:
        """Stop the worker if it still runs, and release its pipes."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.errors.close()

    def __enter__(self) -> _Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _worker_main(source: str, path: str) -> int:
    """The worker's side: read ``path`` and send every record (see :class:`_Worker`)."""
    channel = os.fdopen(os.dup(1), "wb", buffering=1 << 16)
    os.dup2(2, 1)  # a stray print must not corrupt the messages

    def send(message: tuple[Any, ...]) -> None:
        body = marshal.dumps(message)
        channel.write(_FRAME.pack(len(body)) + body)
        channel.flush()

    read = 0

    def progress(n: int) -> None:
        nonlocal read
        read += n

    send(("ready",))
    # Everything loaded so far lives as long as the process: keep the collector off it.
    gc.freeze()
    reader = IatiFile(
        Path(path),
        catalog=get_catalog(),
        converter=UsdConverter(),
        source=source,
        progress=progress,
    )
    info = reader.info
    items: list[tuple[Any, ...]] = []
    try:
        for result in reader.read_here():
            if isinstance(result, ActivityRecord):
                items.append(
                    (
                        _RECORD,
                        result.identifier,
                        result.line,
                        result.activity_row,
                        result.child_rows,
                        result.budget_count,
                        result.warnings,
                    )
                )
            else:
                details = [(d.loc, d.msg) for d in result.details]
                items.append((_PROBLEM, result.identifier, result.line, details))
            if len(items) >= WORKER_BATCH:
                send(("batch", read, info.version, info.version_note, items))
                read, items = 0, []
        send(("batch", read, info.version, info.version_note, items))
        send(("end", 0, info.version, info.version_note))
    except Invalid as exc:
        details = [(d.loc, d.msg) for d in exc.details]
        send(("invalid", read, info.version, info.version_note, exc.message, details))
    except BrokenPipeError:
        return 1  # the importer stopped listening: nothing to do
    channel.close()
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        sys.exit(_worker_main(sys.argv[2], sys.argv[3]))
    sys.exit("usage: python -m ssaplan.ingest.iati --worker SOURCE PATH")
