# colorlab — two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.colorlab-installed

.PHONY: help venv browser demo test lab notebooks book book-quick book-instructor bench reproduce clean

help:
	@echo "make demo   create .venv if needed, install the kit, run the demo on the embedded sample set"
	@echo "make test   same environment, run the whole test suite"
	@echo "make lab    JupyterLab on the repository: notebooks/ (solutions) and exercises/ (student copies)"
	@echo "make notebooks  run every notebook (smoke parameters) into runs/notebooks/, with a table"
	@echo "make book   the course website from full-size runs of the labs: runs/book/site/html/index.html"
	@echo "make book-quick  the same from smoke runs (minutes; a banner on every page says so)"
	@echo "make book-instructor  the website with solutions and model answers, for course staff only"
	@echo "make bench  benchmarks (JSON under bench/results/)"
	@echo "make reproduce  the reports' experiments at smoke size (minutes each, offline), tables under runs/reproduce/"

# The environment: created once, re-installed when the dependency files change.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# the distribution was called "colorlab" before it became "colorlab-kit": drop the old editable install
	-@$(BIN)/python -m pip uninstall --quiet --yes colorlab >/dev/null 2>&1
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,metrics,course,book]"
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

# The course website (colorlab.course.book): the labs run first (full size, or smoke parameters for book-quick;
# again only when a notebook changed), then Sphinx builds the pages from the executed copies without running them.
BOOK := runs/book
$(BOOK)/full/results.json: $(STAMP) $(wildcard notebooks/*.ipynb)
	$(BIN)/colorlab run-notebooks --full --out $(BOOK)/full || { rm -f $@; exit 1; }
$(BOOK)/quick/results.json: $(STAMP) $(wildcard notebooks/*.ipynb)
	$(BIN)/colorlab run-notebooks --out $(BOOK)/quick || { rm -f $@; exit 1; }

book: $(BOOK)/full/results.json
	$(BIN)/colorlab course book $(BOOK)/site --executed $(BOOK)/full

book-quick: $(BOOK)/quick/results.json
	$(BIN)/colorlab course book $(BOOK)/site-quick --executed $(BOOK)/quick --quick

book-instructor: $(BOOK)/full/results.json
	$(BIN)/colorlab course book $(BOOK)/site-instructor --executed $(BOOK)/full --instructor

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
