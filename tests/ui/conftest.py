"""Fixtures shared by the GUI tests."""

from tests.helpers.library_ui import lib_window  # noqa: F401 - the fixture
