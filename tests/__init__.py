"""The test suite as a package: shared code is imported as ``tests.helpers`` (pytest puts the
repository root on ``sys.path``, ``pythonpath`` in ``pyproject.toml``)."""
