# colorlab — two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.colorlab-installed

.PHONY: help venv browser demo test lab notebooks bench clean

help:
	@echo "make demo   create .venv if needed, install the kit, run the demo on the embedded sample set"
	@echo "make test   same environment, run the whole test suite"
	@echo "make lab    JupyterLab on the repository: notebooks/ (solutions) and exercises/ (student copies)"
	@echo "make notebooks  run every notebook (smoke parameters) into runs/notebooks/, with a table"
	@echo "make bench  benchmarks (JSON under bench/results/)"

# The environment: created once, re-installed when the dependency files change.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# the distribution was called "colorlab" before it became "colorlab-kit": drop the old editable install
	-@$(BIN)/python -m pip uninstall --quiet --yes colorlab >/dev/null 2>&1
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,metrics,course]"
	$(BIN)/python -m ipykernel install --sys-prefix --name colorlab --display-name "colorlab (Python 3)" >/dev/null
	@touch $(STAMP)

venv: $(STAMP)

# The real-browser test drives Debian's chromium with Playwright (Playwright's own browser
# download cannot work offline, and is never run). Installed once; needs root or sudo.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

demo: $(STAMP)
	$(BIN)/colorlab demo

test: $(STAMP) browser
	COLORLAB_OFFLINE=1 $(BIN)/python -m pytest

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=. exercises/00_setup_and_data.ipynb

notebooks: $(STAMP)
	$(BIN)/colorlab run-notebooks --baselines tests/notebooks/baselines.json

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf runs .pytest_cache
