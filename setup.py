"""Package layout that pyproject.toml cannot express: ``resources/`` installed as ``viewer._data``.

The repository keeps data files at the top level (DESIGN.md); the wheel ships them inside
the package so :mod:`viewer.resources` finds them with :mod:`importlib.resources`.
Everything else (metadata, dependencies, package data patterns) is in pyproject.toml.
"""

from setuptools import find_namespace_packages, find_packages, setup

# Every data folder is a (namespace) package of its own, or setuptools warns that it is
# "absent from the packages configuration"; package_dir maps them all below resources/.
DATA = ["viewer._data"] + [f"viewer._data.{p}" for p in find_namespace_packages(where="resources")
                           if "__pycache__" not in p]

setup(
    packages=find_packages(include=["viewer", "viewer.*"]) + DATA,
    package_dir={"viewer._data": "resources"},
)
