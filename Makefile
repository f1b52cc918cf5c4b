# dicom-viewer: the two commands of the README, and their parts.
#   make run    install everything and open the GUI on the bundled sample
#   make test   install everything (system packages included) and run the whole test suite
# Both work on a fresh Debian 12 machine as root (or with sudo), with only the package
# registries reachable. Python packages go into .venv inside the repo.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Exact versions of every Python package (resolved from pyproject.toml's ranges by `make lock`).
LOCK := requirements.lock
UV_VERSION := 0.13.9

# Qt's xcb platform plugin needs these at run time (PySide6 wheels do not bundle them); a CJK
# font so Chinese, Japanese and Korean person names are drawn rather than shown as boxes.
APT_QT := libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 \
          libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 \
          libxcb-xfixes0 libxcb-shm0 libxcb-sync1 libxcb-util1 libegl1 libgl1 libopengl0 \
          libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0 fonts-dejavu-core \
          fonts-wqy-zenhei
# The real DICOM peers and tools the tests use as oracles, and a virtual X server.
APT_TEST := dcmtk orthanc orthanc-dicomweb xvfb xauth curl desktop-file-utils shared-mime-info
APT_PACKAGES := $(APT_QT) $(APT_TEST)

.PHONY: run test deps deps-run venv lock sample bench lint screenshot clean wheel frozen docs

run: deps-run venv
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		$(PY) -m viewer resources/sample; \
	else \
		echo "No display (DISPLAY/WAYLAND_DISPLAY unset): opening the window offscreen and saving sample-shot.png instead."; \
		QT_QPA_PLATFORM=offscreen $(PY) -m viewer resources/sample --screenshot sample-shot.png && echo "wrote sample-shot.png"; \
	fi

test: deps venv
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	CI=$${CI-1} $(PY) -m pytest $(PYTEST_ARGS)
	# The network and retrieve tests again with the pynetdicom fast path off: both paths must pass.
	VIEWER_FASTPATH=0 CI=$${CI-1} $(PY) -m pytest tests/net tests/integration/test_pacs_qr.py \
		tests/integration/test_hardening_real_peers.py $(PYTEST_ARGS)

deps-run:
	@packaging/apt-install.sh $(APT_QT)

deps:
	@packaging/apt-install.sh $(APT_PACKAGES)

venv: $(STAMP)

# Installs exactly what the lock says, then the project itself without resolving anything more.
$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || packaging/apt-install.sh python3-venv python3-pip
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r $(LOCK)
	$(PY) -m pip install -q --no-deps -e .
	@touch $@

# Refresh the lock from pyproject.toml's ranges (for the Python line the project runs on).
lock:
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q uv==$(UV_VERSION)
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --python-version 3.11 -o $(LOCK) -q

sample: venv
	$(PY) resources/make_sample.py

screenshot: deps-run venv
	QT_QPA_PLATFORM=offscreen $(PY) -m viewer resources/sample --screenshot shot.png

bench: venv
	$(PY) bench/render.py
	$(PY) bench/scan.py
	$(PY) bench/library.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/print.py --rounds 3

# Packaging: wheel + sdist in dist/, the one-folder app in dist/dicom-viewer/,
# the user guide's screenshots in docs/screenshots/.
wheel: venv
	$(PY) -m build --no-isolation --outdir dist .

frozen: venv
	PY=$(PY) packaging/build-frozen.sh --smoke

docs: deps-run venv
	$(PY) docs/make_screenshots.py

# The static checks of `make test` alone: layers, lint (ruff), types (mypy; config in pyproject.toml).
lint: venv
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
