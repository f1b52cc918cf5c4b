"""The log view: records from any thread reach the GUI, the backlog and level filter work."""

from __future__ import annotations

import logging
import threading

import pytest

from viewer.ui.log_view import LogBuffer, LogView

pytestmark = pytest.mark.gui


@pytest.fixture
def logger():
    lg = logging.getLogger("viewer.tests.logview")
    old = (lg.level, lg.propagate)
    lg.setLevel(logging.DEBUG)
    lg.propagate = False
    yield lg
    lg.handlers.clear()
    lg.setLevel(old[0])
    lg.propagate = old[1]


def test_backlog_and_live_records_from_a_worker_thread(qtbot, logger) -> None:
    buffer = LogBuffer(capacity=3)
    logger.addHandler(buffer)
    for i in range(5):
        logger.info("early %d", i)
    view = LogView(buffer)
    qtbot.addWidget(view)
    lines = view.text.toPlainText().splitlines()
    assert [ln.rsplit(" ", 1)[1] for ln in lines] == ["2", "3", "4"]  # capacity 3 keeps the newest
    worker = threading.Thread(target=lambda: logger.warning("from a worker"))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: "from a worker" in view.text.toPlainText(), timeout=3000)
    assert "W viewer.tests.logview: from a worker" in view.text.toPlainText()


def test_level_filter(qtbot, logger) -> None:
    buffer = LogBuffer()
    logger.addHandler(buffer)
    view = LogView(buffer)
    qtbot.addWidget(view)
    logger.debug("dbg")
    logger.info("inf")
    logger.error("err")
    qtbot.waitUntil(lambda: "err" in view.text.toPlainText(), timeout=3000)
    assert "dbg" not in view.text.toPlainText() and "inf" in view.text.toPlainText()  # default: Info
    view.set_min_level(logging.ERROR)
    assert view.text.toPlainText().splitlines()[-1].endswith("err")
    assert "inf" not in view.text.toPlainText()
    view.set_min_level(logging.DEBUG)
    assert "dbg" in view.text.toPlainText()


def test_a_bad_record_does_not_raise(qtbot, logger) -> None:
    buffer = LogBuffer()
    logger.addHandler(buffer)
    errors: list[logging.LogRecord] = []
    buffer.handleError = errors.append  # type: ignore[method-assign]
    record = logger.makeRecord(logger.name, logging.INFO, __file__, 1, "%d", ("not a number",), None)
    buffer.handle(record)
    assert len(errors) == 1 and buffer.backlog() == []
