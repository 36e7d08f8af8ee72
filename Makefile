# colorlab — two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.colorlab-installed

.PHONY: help venv browser demo test lab notebooks bench reproduce clean

help:
	@echo "make demo   create .venv if needed, install the kit, run the demo on the embedded sample set"
	@echo "make test   same environment, run the whole test suite"
	@echo "make lab    JupyterLab on the repository: notebooks/ (solutions) and exercises/ (student copies)"
	@echo "make notebooks  run every notebook (smoke parameters) into runs/notebooks/, with a table"
	@echo "make bench  benchmarks (JSON under bench/results/)"
	@echo "make reproduce  the reports' experiments at smoke size (minutes each, offline), tables under runs/reproduce/"

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

# The reports' tables and figures at smoke size (the suite runs their tiny size); --size full is the GPU run.
REPRO_SWEEPS := epoch_progression lin_ferreira pandey_fusion losses unet_skip_connections unet_regularisation
REPRO_EXPERIMENTS := siswanto_table1 robles_budach_routing
reproduce: $(STAMP)
	@for c in $(REPRO_SWEEPS); do echo "== $$c"; \
	  COLORLAB_OFFLINE=1 $(BIN)/colorlab sweep configs/$$c.yaml --size smoke --out runs/reproduce/$$c --quiet || exit 1; done
	@for c in $(REPRO_EXPERIMENTS); do echo "== $$c"; \
	  COLORLAB_OFFLINE=1 $(BIN)/colorlab experiment configs/experiments/$$c.yaml --size smoke --out runs/reproduce/$$c || exit 1; done

clean:
	rm -rf runs .pytest_cache
