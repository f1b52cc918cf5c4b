"""The application's print queue: jobs outlive the dialog and the program, and say what was printed.

Oracles: what DCMTK's dcmprscp stored (one Stored Print per film), counted while the job
runs; a relay between client and printer slows the requests (so the dialog can be closed
or the program killed mid-job) or cuts the line (a printer that dies).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.peers import c_echo
from tests.helpers.relay import Relay
from viewer.film.profile import load_profiles
from viewer.tasks.print_queue import JobStore

pytestmark = [pytest.mark.gui, pytest.mark.peers]

ROOT = Path(__file__).resolve().parents[2]


def ct_files(corpus, n):
    return sorted((corpus / "series" / "ct_stack_40").glob("*.dcm"))[:n]


def wait_for(cond, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def gray(print_scp_factory):
    scp = print_scp_factory("GRAY")
    scp.clear()
    yield scp
    assert wait_for(lambda: c_echo(scp.port, scp.aet) == 0, 30), "dcmprscp still busy"


@pytest.fixture
def queue(qtbot, tmp_path):
    from viewer.ui.print_queue import PrintQueue

    q = PrintQueue(JobStore(tmp_path / "queue.json"))
    yield q
    for jid in list(q.workers):
        q.cancel(jid)
    q.wait(30000)


def _dialog(qtbot, queue, files, profile, layout="STANDARD\\1,1"):
    from viewer.ui.print_dialog import PrintDialog

    dlg = PrintDialog([(str(f), 0) for f in files], {profile.name: profile}, queue=queue)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.layout_combo.setCurrentText(layout)
    dlg.bits_combo.setCurrentText("8")
    return dlg


def test_closing_the_dialog_during_a_nine_film_job_prints_all_nine(qtbot, gray, queue, corpus) -> None:
    relay = Relay(gray.port, delay=0.03)
    try:
        profile = dataclasses.replace(load_profiles()["dcmprscp-gray"], port=relay.port, ae_title=gray.aet)
        dlg = _dialog(qtbot, queue, ct_files(corpus, 9), profile)
        jid = dlg.print_now()
        qtbot.waitUntil(lambda: len(gray.stored_prints()) >= 1, timeout=60000)
        dlg.close()
        dlg.deleteLater()
        qtbot.wait(50)
        assert 1 <= len(gray.stored_prints()) < 9  # closed in the middle of the job
        assert queue.wait(120000)
        job = queue.store.get(jid)
        assert job.state == "done", job.summary()
        assert len(gray.stored_prints()) == 9
        assert job.printed == list(range(1, 10))
    finally:
        relay.close()


def test_cancel_says_which_films_were_printed(qtbot, gray, queue, corpus) -> None:
    relay = Relay(gray.port, delay=0.03)
    try:
        profile = dataclasses.replace(load_profiles()["dcmprscp-gray"], port=relay.port, ae_title=gray.aet)
        dlg = _dialog(qtbot, queue, ct_files(corpus, 9), profile)
        jid = dlg.print_now()
        qtbot.waitUntil(lambda: len(gray.stored_prints()) >= 2, timeout=60000)
        dlg.queue_list.setCurrentRow(0)
        dlg.cancel_selected()
        qtbot.waitUntil(lambda: jid in dlg.errors, timeout=60000)
        job = queue.store.get(jid)
        stored = len(gray.stored_prints())
        assert job.state == "cancelled"
        assert job.printed == list(range(1, stored + 1)) and job.uncertain == []  # cancel waits for answers
        assert 2 <= stored < 9
        assert f"printed: {', '.join(str(n) for n in range(1, stored + 1))} of 9 films" in dlg.errors[jid]
        assert f"{stored} of 9 films printed" in job.summary()
    finally:
        relay.close()


def test_printer_dies_mid_job_then_retry_prints_only_the_rest(qtbot, gray, queue, corpus) -> None:
    relay = Relay(gray.port, delay=0.03)
    try:
        profile = dataclasses.replace(load_profiles()["dcmprscp-gray"], port=relay.port, ae_title=gray.aet)
        dlg = _dialog(qtbot, queue, ct_files(corpus, 6), profile)
        jid = dlg.print_now()
        qtbot.waitUntil(lambda: len(gray.stored_prints()) >= 2, timeout=60000)
        relay.cut()
        qtbot.waitUntil(lambda: jid in dlg.errors, timeout=60000)
        job = queue.store.get(jid)
        stored = len(gray.stored_prints())
        assert job.state == "failed"
        certain, maybe = job.printed, job.uncertain
        # the film whose N-ACTION was on the line when it was cut is "perhaps printed"
        assert certain == list(range(1, len(certain) + 1)) and len(maybe) <= 1
        assert len(certain) <= stored <= len(certain) + len(maybe) and stored < 6
        assert "printed:" in dlg.errors[jid]
        assert wait_for(lambda: c_echo(gray.port, gray.aet) == 0, 30)
        queue.retry(jid)
        assert queue.wait(120000)
        job = queue.store.get(jid)
        assert job.state == "done", job.summary()
        assert job.uncertain == maybe  # never sent again by a retry
        # nothing printed twice: every film once (the uncertain one only if it had reached the printer)
        assert len(gray.stored_prints()) == 6 - len(maybe) + (stored - len(certain))
    finally:
        relay.close()


def test_killed_mid_job_the_restarted_program_shows_what_was_printed(qtbot, gray, corpus, tmp_path) -> None:
    """The CLI puts its job in the application's queue; kill -9 it mid-job, then open the queue window."""
    relay = Relay(gray.port, delay=0.05)
    home = tmp_path / "home"
    env = dict(os.environ, XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"))
    argv = [sys.executable, "-m", "viewer", "print", "127.0.0.1", str(relay.port), "--aec", gray.aet, "--bits", "8",
            *[str(f) for f in ct_files(corpus, 9)]]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: len(gray.stored_prints()) >= 3, 120), proc.stderr.read().decode() if \
            proc.poll() is not None else "no film printed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        relay.close()
    stored = len(gray.stored_prints())
    assert stored < 9
    from viewer.ui.print_queue import PrintQueue, PrintQueueWindow

    store = JobStore(home / "data" / "dicom-viewer" / "print-queue.json")
    (job,) = store.jobs()
    assert job.state == "interrupted"
    # A film whose N-ACTION was on the wire at the kill is "perhaps printed", never unrecorded.
    assert job.printed == list(range(1, len(job.printed) + 1))
    assert len(job.printed) <= stored <= len(job.printed) + len(job.uncertain) and len(job.uncertain) <= 1
    win = PrintQueueWindow(PrintQueue(store))
    qtbot.addWidget(win)
    win.resize(700, 420)
    win.show()
    win.select(job.id)
    item = win.tree.currentItem()
    assert item.text(2) == "INTERRUPTED"
    states = [item.child(i).text(2) for i in range(item.childCount())]
    done = len(job.printed) + len(job.uncertain)
    assert states == ["sent"] * len(job.printed) + ["perhaps printed"] * len(job.uncertain) + ["pending"] * (9 - done)
    assert win.retry_button.isEnabled()
    win.grab().save(str(tmp_path / "queue.png"))


def test_a_retried_job_is_waited_for_when_its_first_run_ends_late(qtbot, queue, corpus) -> None:
    """The first run's end, delivered after Retry started the second run, must not make the
    queue forget the second (seen: ``wait`` returned while the retried job was running)."""
    import socket

    from PySide6.QtWidgets import QApplication

    from tests.helpers.peers import free_port

    port = free_port()
    profile = dataclasses.replace(load_profiles()["dcmprscp-gray"], port=port, ae_title="NOBODY")
    dlg = _dialog(qtbot, queue, ct_files(corpus, 1), profile)
    jid = dlg.print_now()
    assert queue.pool.waitForDone(60000)  # nothing listens: the first run failed, its signals wait
    assert queue.store.get(jid).state == "failed"
    queue.timeout = 3.0
    with socket.create_server(("127.0.0.1", port)):  # now a printer that accepts and never answers
        queue.retry(jid)
        second = queue.workers[jid]
        QApplication.processEvents()  # the first run's signals arrive
        assert queue.workers.get(jid) is second and queue.busy
        assert queue.wait(60000)
    assert queue.store.get(jid).state == "failed"
