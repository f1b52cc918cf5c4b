"""Package layout that pyproject.toml cannot express: ``resources/`` installed as ``viewer._data``.

The repository keeps data files at the top level (DESIGN.md); the wheel ships them inside
the package so :mod:`viewer.resources` finds them with :mod:`importlib.resources`.
Everything else (metadata, dependencies, package data patterns) is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["viewer", "viewer.*"]) + ["viewer._data"],
    package_dir={"viewer._data": "resources"},
)
