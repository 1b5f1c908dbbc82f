# Two commands that work on a fresh machine with Python 3.10+, make and git.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo board test fuzz lint bench tables clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files re-run the install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

# The main job: a simulated month of cases through a real desk on SQLite, and its report.
demo: $(VENV)/.installed
	$(BIN)/aftersales simulate --policy rules/default.policy --days 30 --seed 1

# The board over the demo's month: a manager's token, then the server (Ctrl-C to stop).
board: $(VENV)/.installed
	printf 'policy = "rules/default.policy"\nstorage = "sqlite:///aftersales-sim.db"\n' > demo.toml
	$(BIN)/aftersales --config demo.toml staff token issue mgr --by mgr --days 1
	@echo "open http://127.0.0.1:8000/board/login and paste the token above"
	$(BIN)/aftersales --config demo.toml serve

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

# The long run of the adversarial suite: thousands of hostile calls and mutated policies.
fuzz: $(VENV)/.installed-dev
	AFTERSALES_FUZZ=1 $(BIN)/python -m pytest tests/adversarial -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/mypy src

bench: $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/run.py
	$(BIN)/python bench/desk_bench.py
	$(BIN)/python bench/sla_bench.py
	$(BIN)/python bench/appraisal_bench.py
	$(BIN)/python bench/parts_bench.py
	$(BIN)/python bench/history_bench.py
	$(BIN)/python bench/installed_base_bench.py
	$(BIN)/python bench/customers_bench.py
	$(BIN)/python bench/rules_bench.py
	$(BIN)/python bench/http_load_bench.py
	$(BIN)/python bench/report_bench.py
	$(BIN)/python bench/scale_bench.py
	$(BIN)/python bench/startup_bench.py
	cd bench && ../$(BIN)/python storage_bench.py

# Regenerates the parser tables shipped beside the grammar (run after editing grammar.lark).
tables: $(VENV)/.installed-dev
	$(BIN)/python -c "from aftersales.policy.tables import main; main()"

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
