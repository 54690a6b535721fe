# Two entry points (see README): `make demo` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
APT_PACKAGES := ffmpeg espeak-ng sox
# only for the tests: a single-node Slurm cluster, and a browser to render the report
TEST_APT_PACKAGES := slurm-wlm munge chromium

.PHONY: demo test sysdeps testdeps venv lint

sysdeps:  ## Debian packages: ffmpeg (extraction), espeak-ng and sox (test media)
	@missing=""; for t in ffmpeg espeak-ng sox; do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(APT_PACKAGES); \
	fi

testdeps:  ## Debian packages the tests use beyond sysdeps: slurm-wlm + munge, chromium
	@missing=""; for t in slurmctld munged chromium; do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(TEST_APT_PACKAGES); \
	fi

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
	@echo; echo "Transcripts:"; ls results/transcripts; echo; cat results/transcripts/*.txt

test: sysdeps testdeps venv lint  ## lint, then the whole test suite (CI runs exactly this)
	$(BIN)/python -m pytest -v --durations=15

lint: venv  ## snakemake --lint and snakefmt on the Snakefile and rules
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile rules
