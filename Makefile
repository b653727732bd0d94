# Everything installs into .venv under the repo; nothing outside it is touched.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test test-slow test-all test-trl-range test-verl lint docs demo bench dist check-dist figures world-data clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch only ever as the pinned CPU wheel, even when another package asks for it
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev,train,trl,examples,constrained,pretrained,docs]"
	touch $(STAMP)

## make test: the default (fast) test suite.
test: $(STAMP)
	$(BIN)/pytest -q

## make test-slow: only the tests marked slow (whole trainer runs, benchmark smokes); CI runs them too.
test-slow: $(STAMP)
	$(BIN)/pytest -q -m slow

## make test-all: every test, slow ones included.
test-all: $(STAMP)
	$(BIN)/pytest -q -m ""

## make test-trl-range: the TRL tests on the lowest and the highest TRL that pyproject.toml admits (.venv-trl/).
test-trl-range: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/trl_range.py

## make test-verl: the verl agent loop's tests against verl's own classes, in a venv of its own (.venv-verl/).
VERL_STAMP := .venv-verl/.installed
$(VERL_STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv .venv-verl
	.venv-verl/bin/pip install --quiet --upgrade pip
	.venv-verl/bin/pip install --quiet -c constraints.txt -e ".[verl]" "pytest>=8" "pytest-timeout>=2.3"
	touch $(VERL_STAMP)

test-verl: $(VERL_STAMP)
	HF_HUB_OFFLINE=1 .venv-verl/bin/python -m pytest -q -p no:cacheprovider tests/integrations/test_verl_agent.py tests/package/test_docs.py -k verl_agent

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples scripts
	$(BIN)/ruff format --check src tests benchmarks examples scripts
	$(BIN)/mypy

## make docs: the documentation site (mkdocs, material theme, API reference from docstrings) into site/.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

## make demo: the main job, the reference trainer's quick preset on CraftWorld (runs/quick/results.md).
demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python examples/crossha_train.py --preset quick --resume

## make world-data: CraftWorld's Minecraft 1.16.5 facts, extracted again from the minecraft-data package.
world-data: $(STAMP)
	$(BIN)/python scripts/build_world_data.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_parse.py

## make dist: the sdist and the wheel, built into dist/ (python -m build).
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

## make check-dist: their metadata and contents, and the wheel installed into a fresh virtualenv and run.
check-dist: dist
	$(BIN)/python scripts/check_dist.py dist

## make figures: the documentation's pictures (docs/images/), drawn from the library itself.
figures: $(STAMP)
	$(BIN)/python scripts/make_figures.py docs/images

clean:
	rm -rf $(VENV) .venv-trl .venv-verl .pytest_cache .mypy_cache .ruff_cache .hypothesis site dist
