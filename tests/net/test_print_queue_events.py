"""Print Job events by name in the application's queue, against our own print SCP.

Oracle: PS3.4 H.4.4.1.2.1 (event types 1 PENDING, 2 PRINTING, 3 DONE, 4 FAILURE), as our
virtual printer sends them (viewer.net.print_scp), and the queue file written to disk.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.peers import free_port
from viewer.film.output import make_sink
from viewer.film.profile import permissive_profile
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec
from viewer.net.print_scp import PrintServer, load_profile
from viewer.tasks.print_render import ImageRef
from viewer.tasks.print_queue import JobStore, run_job


@pytest.fixture
def server(tmp_path: Path):
    profile = load_profile("default")
    sink = make_sink(tmp_path / "prints", profile.min_density, profile.max_density, profile.annotation_formats, 30)
    srv = PrintServer(sink.print_job, profile, aet="VIEWERPRINT", host="127.0.0.1", port=free_port(), timeout=10)
    srv.start()
    yield srv
    srv.stop()


def test_job_events_by_name_and_film_states_on_disk(server, corpus, tmp_path) -> None:
    files = sorted((corpus / "series" / "ct_stack_40").glob("*.dcm"))[:3]
    store = JobStore(tmp_path / "queue.json")
    profile = permissive_profile("127.0.0.1", server.port, "VIEWERPRINT")
    job = store.add([ImageRef(str(f)) for f in files], FilmBoxSpec(display_format="STANDARD\\1,2"),
                    FilmSessionSpec(), profile, {"bits": 8})
    progress: list[str] = []
    run_job(store, job.id, progress=lambda text, frac: progress.append(text))
    done = store.get(job.id)
    assert done.state == "done"
    assert [f.state for f in done.films] == ["done", "done"]
    assert all(f.execution_status == "DONE" for f in done.films)
    text = "\n".join(done.events)
    for name in ("PENDING", "PRINTING", "DONE"):
        assert f"film 1: {name}" in text
    assert any("print job DONE" in p for p in progress)
    on_disk = json.loads((tmp_path / "queue.json").read_text())
    assert [f["state"] for f in on_disk["jobs"][0]["films"]] == ["done", "done"]


def test_two_programs_share_the_queue_file_without_losing_jobs(server, corpus, tmp_path) -> None:
    """The GUI and a CLI both write print-queue.json: each keeps the other's jobs and ids stay unique."""
    files = sorted((corpus / "series" / "ct_stack_40").glob("*.dcm"))[:2]
    profile = permissive_profile("127.0.0.1", server.port, "VIEWERPRINT")
    gui, cli = JobStore(tmp_path / "queue.json"), JobStore(tmp_path / "queue.json")
    a = gui.add([ImageRef(str(files[0]))], FilmBoxSpec(), FilmSessionSpec(), profile, {"bits": 8})
    b = cli.add([ImageRef(str(files[1]))], FilmBoxSpec(), FilmSessionSpec(), profile, {"bits": 8})
    assert a.id != b.id
    run_job(cli, b.id)
    run_job(gui, a.id)  # the GUI writes after the CLI: the CLI's job must survive
    on_disk = {j["id"]: j["state"] for j in json.loads((tmp_path / "queue.json").read_text())["jobs"]}
    assert on_disk == {a.id: "done", b.id: "done"}
    assert [j.id for j in gui.jobs()] == [a.id, b.id]
    assert JobStore(tmp_path / "queue.json").get(b.id).printed == [1]
