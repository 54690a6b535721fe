# Entry points (see README): `make demo` (the README's ./bootstrap.sh demo installs make and
# python3-venv first, then runs it); `make check`, the fast tier to run before each commit;
# `make test`, the whole suite (what .ci/run runs: check, then the rest, `make test-workflow`).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
APT_PACKAGES := ffmpeg espeak-ng sox
# only for the tests: a single-node Slurm cluster, and a browser to render the report
TEST_APT_PACKAGES := slurm-wlm munge chromium

.PHONY: demo check test test-workflow sysdeps testdeps venv lint

# Install the Debian packages named in $(1) whose command in $(2) is missing: apt-get through
# sudo unless root (a fresh container or VM has no sudo; a user's machine does); sudo resets
# the environment, so DEBIAN_FRONTEND goes through env.
define apt_install
missing=""; for t in $(2); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing $(1) (missing:$$missing)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); \
	fi
endef

sysdeps:  ## Debian packages: ffmpeg (extraction), espeak-ng and sox (test media)
	@$(call apt_install,$(APT_PACKAGES),ffmpeg espeak-ng sox)

testdeps:  ## Debian packages the tests use beyond sysdeps: slurm-wlm + munge, chromium
	@$(call apt_install,$(TEST_APT_PACKAGES),slurmctld munged chromium)

$(BIN)/snakemake: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	# the official FireRedASR (v1) and FireRedASR2 (module fireredasr2) code, used by the tests
	# as the reference; their own dependencies are not needed
	$(BIN)/pip install -q --no-deps fireredasr==0.0.2 fasr-asr-firered==0.5.8
	touch $@

venv: $(BIN)/snakemake

demo: sysdeps venv  ## transcribe example/media with the bundled model -> results/
	$(BIN)/snakemake --cores all

# the tiers (docs/development.md): tests/conftest.py marks `workflow` the tests that run
# Snakemake; `slow` marks those that take minutes of CPU otherwise
FAST := not workflow and not slow

check: sysdeps venv  ## the fast tier (its media tests make media with ffmpeg, espeak-ng, sox): ruff, the unit tests and the engine's exact match with the official code
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -m "$(FAST)" --durations=5

test: sysdeps testdeps venv lint  ## lint, then the whole test suite (.ci/run: check, then test-workflow)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -v --durations=15

test-workflow: sysdeps testdeps venv lint  ## what make check leaves out: the workflow runs, the slow tests
	$(BIN)/python -m pytest -v --durations=15 -m "not ($(FAST))"

lint: venv  ## snakemake --lint and snakefmt on the Snakefile and rules
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile rules
