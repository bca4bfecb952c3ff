# liftguard: one command to set up and run the demo, one to set up and run every test.
# Both are idempotent: each step is skipped when its stamp is newer than its inputs.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMPS := $(VENV)/.stamps
APT_PACKAGES := mosquitto mosquitto-clients socat mbpoll tmux
APT_COMMANDS := mosquitto mosquitto_sub socat mbpoll tmux
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint typecheck unit hil setup system-packages clean bench

demo: setup
	$(VENV)/bin/liftguard demo

# The bench scenarios spend most of their time waiting on the real-time virtual elevator, so
# they run beside the unit tests (CPU-bound) instead of after them: the suite's wall time is
# the longer of the two, not their sum. Their output follows once both have ended.
test: setup lint typecheck
	@log=$$(mktemp); $(PY) -m pytest -q hil_tests >$$log 2>&1 & bench=$$!; \
	$(PY) -m pytest -q tests; unit=$$?; wait $$bench; hil=$$?; \
	echo "== hil_tests (ran beside tests/) =="; cat $$log; rm -f $$log; \
	test $$unit -eq 0 && test $$hil -eq 0

unit: setup
	$(PY) -m pytest -q tests

hil: setup
	$(PY) -m pytest -q hil_tests

lint: setup
	$(VENV)/bin/ruff check agent drivers cext calibration firmware hil_tests tests benchmarks setup.py

typecheck: setup
	$(VENV)/bin/mypy agent drivers calibration cext
	$(PY) firmware/typecheck.py

setup: system-packages $(STAMPS)/python $(STAMPS)/ext $(STAMPS)/npm

# Debian packages the tests and the demo use; installed only when a command is missing.
system-packages:
	@missing=""; for c in $(APT_COMMANDS); do command -v $$c >/dev/null 2>&1 || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $(APT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PACKAGES); \
	fi

$(STAMPS)/python: requirements.txt requirements-dev.txt setup.py pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps -e .
	@mkdir -p $(STAMPS) && touch $@

# The editable install builds cext/ in place; rebuild whenever a kernel source changes.
$(STAMPS)/ext: $(STAMPS)/python $(wildcard cext/*.pyx cext/*.pxd cext/*.h)
	$(PY) setup.py -q build_ext --inplace
	@touch $@

$(STAMPS)/npm: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMPS) && touch $@

bench: setup
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf build cext/*.c cext/*.so *.egg-info
