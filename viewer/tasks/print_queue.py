"""The application's print queue: jobs and the state of each film, kept on disk.

A job is what the user asked to print (images as they were shown, film box and film
session, options, the printer's profile); it is stored in ``<data>/print-queue.json``
(``viewer.paths.data_dir``) before it runs and after every change of a film's state, so
that a job outlives the dialog that queued it and a restart of the program. A job that
was running when the program ended is found ``interrupted``, with the films the printer
had accepted marked as such: a retry prints only the others (a film the printer accepted
is never sent twice, PS3.4 H.4.2.2.3 leaves repeated N-ACTIONs to print again).

Film states: ``pending`` (not sent), ``uncertain`` (its N-ACTION went out and no answer
came back: the printer may have printed it; a retry does not send it again, a reprint
does), ``sent`` (the printer accepted its N-ACTION), ``printing`` and ``done`` (Print Job
events or Execution Status, PS3.4 H.4.4), ``failed``. No Qt here: the GUI runs
:func:`run_job` in its worker and listens to :meth:`JobStore.subscribe`; the CLI runs it
directly. The GUI and a CLI may share the file: each keeps the other's jobs (a lock file,
and every write merges what is on disk).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from viewer.cancel import CancelToken
from viewer.errors import Cancelled, ViewerError
from viewer.film.burnin import Mark
from viewer.film.enums import FilmOrientation, Polarity, PresentationLUTShape, PrintPriority
from viewer.film.layout import parse_display_format
from viewer.film.profile import PrinterProfile
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec
from viewer.tasks.print_films import build_job
from viewer.tasks.print_render import ImageRef
from viewer.tasks.print_report import FilmResult, PrintReport
from viewer.tasks.print_run import run_print_job

log = logging.getLogger(__name__)

FILE_NAME = "print-queue.json"
#: Film states, in the order a film goes through them.
FILM_STATES = ("pending", "uncertain", "sent", "printing", "done", "failed")
#: A film in one of these states has been accepted by the printer.
PRINTED = ("sent", "printing", "done")
#: A film in one of these states is not sent again by a retry (never repeat N-ACTION blindly).
NOT_AGAIN = PRINTED + ("uncertain",)
JOB_STATES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
#: The most jobs kept in the history (oldest finished ones are dropped first).
HISTORY = 200

_FILM_STATE = {"ACTION_SENT": "uncertain", "SENT": "sent", "PENDING": "sent", "PRINTING": "printing", "DONE": "done",
               "FAILURE": "failed"}


@dataclass
class FilmRecord:
    """One film of a job: its number, state and what the printer said about it."""

    number: int
    state: str = "pending"
    images: int = 0
    execution_status: str = ""
    execution_status_info: str = ""
    print_job_uid: str = ""


@dataclass
class JobRecord:
    """A print job as the queue keeps it."""

    id: int
    printer: str
    profile: dict[str, Any]
    refs: list[dict[str, Any] | None]
    box: dict[str, Any]
    session: dict[str, Any]
    options: dict[str, Any]
    created: float = field(default_factory=time.time)
    state: str = "queued"
    films: list[FilmRecord] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    finished: float = 0.0
    #: retry refused values in the same association (viewer.tasks.print_run.run_print_job)
    adapt: bool = True
    #: process id of the program running (or last running) the job
    owner: int = 0

    @property
    def printed(self) -> list[int]:
        """Numbers of the films the printer accepted."""
        return [f.number for f in self.films if f.state in PRINTED]

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")

    @property
    def uncertain(self) -> list[int]:
        """Films whose N-ACTION got no answer: perhaps printed."""
        return [f.number for f in self.films if f.state == "uncertain"]

    def summary(self) -> str:
        """One line: state and which films were printed."""
        n = len(self.films)
        printed = self.printed
        what = f"{len(printed)} of {n} films printed" + (f" ({_ranges(printed)})" if 0 < len(printed) < n else "")
        if self.uncertain:
            what += f"; {_ranges(self.uncertain)} perhaps printed (no answer to N-ACTION: check the printer)"
        text = f"{self.state.upper()}: {what}"
        return text + (f"; {self.error}" if self.error else "")


def _ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"films 1-3, 5"``."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and runs[-1][1] == n - 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    text = ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in runs)
    return ("films " if len(numbers) > 1 else "film ") + text


# ---------------------------------------------------------------------------- (de)serialising
def _plain(value: Any) -> Any:
    if isinstance(value, (Polarity, PresentationLUTShape, FilmOrientation, PrintPriority)):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def ref_to_dict(ref: ImageRef | None) -> dict[str, Any] | None:
    return None if ref is None else dict(_plain(ref))


def ref_from_dict(d: dict[str, Any] | None) -> ImageRef | None:
    if d is None:
        return None  # an empty box
    values = dict(d)
    for key in ("window", "crop", "area"):
        if values.get(key) is not None:
            values[key] = tuple(values[key])
    values["marks"] = tuple(Mark(m["kind"], tuple(tuple(p) for p in m["points"]), m.get("text", ""))
                            for m in values.get("marks", []))
    known = {f.name for f in dataclasses.fields(ImageRef)}
    return ImageRef(**{k: v for k, v in values.items() if k in known})


def box_from_dict(d: dict[str, Any]) -> FilmBoxSpec:
    values = dict(d)
    values["orientation"] = FilmOrientation(values.get("orientation") or "PORTRAIT")
    return FilmBoxSpec(**values)


def session_from_dict(d: dict[str, Any]) -> FilmSessionSpec:
    values = dict(d)
    if values.get("priority"):
        values["priority"] = PrintPriority(values["priority"])
    return FilmSessionSpec(**values)


def options_to_dict(options: dict[str, Any]) -> dict[str, Any]:
    return dict(_plain(options))


def options_from_dict(d: dict[str, Any]) -> dict[str, Any]:
    out = dict(d)
    if "polarity" in out:
        out["polarity"] = Polarity(out["polarity"])
    if out.get("presentation_lut"):
        out["presentation_lut"] = PresentationLUTShape(out["presentation_lut"])
    if "annotations" in out:
        out["annotations"] = {int(k): v for k, v in (out["annotations"] or {}).items()}
    return out


def _job_from_dict(d: dict[str, Any]) -> JobRecord:
    films = [FilmRecord(**f) for f in d.get("films", [])]
    known = {f.name for f in dataclasses.fields(JobRecord)} - {"films"}
    return JobRecord(films=films, **{k: v for k, v in d.items() if k in known})


# ---------------------------------------------------------------------------- the store
def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (another program holding a running job)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return False  # a job of ours found "running" in the file at start-up: an earlier run of this process id
    if sys.platform == "win32":
        return False  # os.kill(pid, 0) would terminate the process there; such a job shows as interrupted
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by another user, or not knowable here: do not call it interrupted
    return True


class JobStore:
    """Jobs kept in one JSON file, written atomically on every change; thread-safe.

    Parameters
    ----------
    path : Path, optional
        The file (default ``<data>/print-queue.json``).
    """

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            from viewer import paths

            path = paths.data_dir() / FILE_NAME
        self.path = Path(path)
        self._lock = threading.RLock()
        self._jobs: dict[int, JobRecord] = {}
        #: jobs this process created, ran or changed: its copy wins over the file's
        self._owned: set[int] = set()
        self._listeners: list[Callable[[JobRecord], None]] = []
        self.load()

    # ------------------------------------------------------------------ the file, shared by processes
    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """Hold ``print-queue.json.lock`` (the GUI and a CLI may share the queue)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a+b") as fh:
            try:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            except (ImportError, OSError):  # no flock (Windows): a whole-file replace is still atomic
                pass
            yield

    def _read(self) -> dict[int, JobRecord] | None:
        """The jobs in the file (None when there is none or it is unreadable, which is set aside)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("print queue %s unreadable (%s): starting empty; the file is kept as .bad", self.path, exc)
            try:
                os.replace(self.path, self.path.with_suffix(".bad"))
            except OSError:
                pass
            return None
        out: dict[int, JobRecord] = {}
        for item in data.get("jobs", []) if isinstance(data, dict) else []:
            try:
                job = _job_from_dict(item)
            except (TypeError, ValueError, KeyError) as exc:
                log.warning("print queue: a job could not be read (%s), skipped", exc)
                continue
            if job.state == "running" and not _alive(job.owner):
                job.state = "interrupted"
                job.error = job.error or "the program ended while the job was running"
            out[job.id] = job
        return out

    def _merge(self) -> None:
        """Take the file's version of every job this process does not own (another program's)."""
        disk = self._read() or {}
        for jid, job in disk.items():
            if jid not in self._owned:
                self._jobs[jid] = job
        for jid in [j for j in self._jobs if j not in disk and j not in self._owned]:
            del self._jobs[jid]

    def load(self) -> None:
        """Read the file; a job found ``running`` whose program is gone was interrupted."""
        with self._lock, self._file_lock():
            self._jobs = {}
            self._owned = set()
            self._merge()

    def _save(self) -> None:
        """Write every job (the file's other jobs merged first); call with both locks held."""
        self._merge()
        jobs = sorted(self._jobs.values(), key=lambda j: j.id)
        if len(jobs) > HISTORY:
            old = [j for j in jobs if not j.active][: len(jobs) - HISTORY]
            for j in old:
                del self._jobs[j.id]
                self._owned.discard(j.id)
            jobs = sorted(self._jobs.values(), key=lambda j: j.id)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps({"version": 1, "jobs": [_plain(j) for j in jobs]}, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)

    def subscribe(self, listener: Callable[[JobRecord], None]) -> None:
        """Call ``listener(job)`` after every change (in the thread that made it)."""
        self._listeners.append(listener)

    def jobs(self) -> list[JobRecord]:
        """All jobs, oldest first (copies), with those of other programs as the file has them now."""
        with self._lock:
            with self._file_lock():
                self._merge()
            return [dataclasses.replace(j, films=[dataclasses.replace(f) for f in j.films])
                    for j in sorted(self._jobs.values(), key=lambda j: j.id)]

    def get(self, jid: int) -> JobRecord:
        with self._lock:
            j = self._jobs[jid]
            return dataclasses.replace(j, films=[dataclasses.replace(f) for f in j.films])

    def add(self, refs: Sequence[ImageRef | None], box: FilmBoxSpec, session: FilmSessionSpec, profile: PrinterProfile,
            options: dict[str, Any] | None = None, *, adapt: bool = True) -> JobRecord:
        """Queue a new job (films all ``pending``)."""
        per_film = parse_display_format(box.display_format).box_count
        count = max(1, -(-len(refs) // per_film))
        with self._lock, self._file_lock():
            self._merge()
            jid = max(self._jobs, default=0) + 1
            films = [FilmRecord(n, images=min(per_film, len(refs) - (n - 1) * per_film)) for n in range(1, count + 1)]
            job = JobRecord(jid, profile.name, profile.to_dict(), [ref_to_dict(r) for r in refs], _plain(box),
                            _plain(session), options_to_dict(options or {}), films=films, adapt=adapt,
                            owner=os.getpid())
            self._jobs[jid] = job
            self._owned.add(jid)
            self._save()
        self._notify(job)
        return self.get(jid)

    def change(self, jid: int, fn: Callable[[JobRecord], None]) -> JobRecord:
        """Apply ``fn`` to the stored job, save, notify; returns a copy."""
        with self._lock, self._file_lock():
            if jid not in self._owned:
                self._merge()  # another program's job: start from its latest state
            fn(self._jobs[jid])
            self._owned.add(jid)
            self._save()
            job = self.get(jid)
        self._notify(job)
        return job

    def remove(self, jid: int) -> None:
        with self._lock, self._file_lock():
            self._merge()
            self._jobs.pop(jid, None)
            self._owned.discard(jid)
            self._save()
            # (a job of another program that is removed here comes back if that program writes it again)

    def _notify(self, job: JobRecord) -> None:
        for listener in list(self._listeners):
            try:
                listener(job)
            except Exception:
                log.debug("print queue listener failed", exc_info=True)


def requeue(store: JobStore, jid: int, *, all_films: bool = False) -> JobRecord:
    """Retry (the films not printed) or reprint (``all_films``) a finished job: it is queued again.

    Raises
    ------
    ViewerError
        The job is still queued or running, or (retry) every film was printed.
    """
    job = store.get(jid)
    if job.active:
        raise ViewerError(f"print job {jid} is still {job.state}")
    if not all_films and all(f.state in NOT_AGAIN for f in job.films):
        raise ViewerError(f"print job {jid}: every film was printed or perhaps printed; use reprint to print "
                          "it again")

    def fn(j: JobRecord) -> None:
        j.state, j.error, j.finished = "queued", "", 0.0
        for f in j.films:
            if all_films or f.state not in NOT_AGAIN:
                f.state, f.execution_status, f.execution_status_info, f.print_job_uid = "pending", "", "", ""
        j.events.append(f"{time.strftime('%H:%M:%S')} {'reprint' if all_films else 'retry'} queued")

    return store.change(jid, fn)


def run_job(store: JobStore, jid: int, *, cancel: CancelToken | None = None,
            progress: Callable[[str, float], None] | None = None, timeout: float = 30.0,
            job_timeout: float = 60.0, follow_job: bool = True) -> PrintReport:
    """Print the films of job ``jid`` that are not printed yet, keeping the store up to date.

    Raises
    ------
    PrintError, ViewerError, Cancelled
        As :func:`viewer.tasks.print_run.run_print_job`; the job's record then says
        which films the printer had accepted.
    """
    job = store.get(jid)
    profile = PrinterProfile.from_dict(job.profile)
    refs = [ref_from_dict(r) for r in job.refs]
    todo = [f.number for f in job.films if f.state not in NOT_AGAIN]
    stamp = time.strftime

    def start(j: JobRecord) -> None:
        j.state, j.error, j.owner = "running", "", os.getpid()
        j.events.append(f"{stamp('%H:%M:%S')} started ({len(todo)} of {len(j.films)} films to print)")

    store.change(jid, start)

    def on_film(result: FilmResult) -> None:
        state = _FILM_STATE.get(result.execution_status, "sent")

        def fn(j: JobRecord) -> None:
            film = next((f for f in j.films if f.number == result.number), None)
            if film is None:  # the printer's layout made more films than the job had
                film = FilmRecord(result.number, images=result.image_boxes)
                j.films.append(film)
            film.state, film.execution_status = state, result.execution_status
            film.execution_status_info, film.print_job_uid = result.execution_status_info, result.print_job_uid
            film.images = result.image_boxes or film.images
            info = f" ({result.execution_status_info})" if result.execution_status_info else ""
            if result.execution_status != "ACTION_SENT":
                j.events.append(f"{stamp('%H:%M:%S')} film {result.number}: {result.execution_status}{info}")

        store.change(jid, fn)

    report = PrintReport(printer=f"{profile.ae_title}@{profile.host}:{profile.port}")
    try:
        if not todo:
            raise ViewerError(f"print job {jid}: nothing left to print")
        built, warnings = build_job(refs, box_from_dict(job.box), session_from_dict(job.session), profile,
                                    cancel=cancel, progress=progress, **options_from_dict(job.options))
        films = [f for n, f in enumerate(built.films, start=1) if n in todo]
        part = dataclasses.replace(built, films=films)
        report.warnings += warnings
        run_print_job(part, profile, cancel=cancel, progress=progress, timeout=timeout, job_timeout=job_timeout,
                      follow_job=follow_job, on_film=on_film, numbers=todo, report=report, adapt=job.adapt)
    except BaseException as exc:
        cancelled = isinstance(exc, Cancelled)
        text = "cancelled" if cancelled else (str(exc) or type(exc).__name__)

        def failed(j: JobRecord) -> None:
            j.state = "cancelled" if cancelled else "failed"
            j.error, j.finished = text, time.time()
            if not cancelled:
                sent = {r.number for r in report.films}
                for f in j.films:
                    if f.number in sent and f.state not in NOT_AGAIN:
                        f.state = "failed"
            j.warnings = list(dict.fromkeys(j.warnings + [f"adapted: {a}" for a in report.adapted] + report.warnings))
            j.events.append(f"{stamp('%H:%M:%S')} {j.summary()}")

        if report.learned:
            _remember(store, jid, profile, report)
        store.change(jid, failed)
        raise

    if report.learned:
        _remember(store, jid, profile, report)

    def done(j: JobRecord) -> None:
        # A layout adapted to the printer may have made fewer films: those never sent are gone.
        sent = {r.number for r in report.films}
        j.films = [f for f in j.films if f.state in NOT_AGAIN or f.number in sent or f.number not in todo]
        failed = any(f.state == "failed" for f in j.films)
        j.state, j.finished = ("failed" if failed else "done"), time.time()
        j.warnings = list(dict.fromkeys(j.warnings + [f"adapted: {a}" for a in report.adapted] + report.warnings))
        j.events.append(f"{stamp('%H:%M:%S')} {j.summary()}")

    store.change(jid, done)
    return report


def _remember(store: JobStore, jid: int, profile: PrinterProfile, report: PrintReport) -> None:
    """Save what the printer taught into its profile (the user's copy), and use it for this job's retries."""
    from viewer.film.profile import learn, save_profile

    updated = learn(profile, report.learned)
    if updated == profile:
        return
    try:
        path = save_profile(updated)
    except OSError as exc:
        log.warning("printer profile %s not saved: %s", profile.name, exc)
        return
    report.warnings.append(f"printer profile {updated.name} updated with what the printer refused ({path})")

    def fn(j: JobRecord) -> None:
        j.profile = updated.to_dict()

    store.change(jid, fn)
