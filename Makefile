# The two set-up commands (see README): `make run` serves, `make test` runs the suite.
# Both create .venv, install the package with its dependencies and models, and (as root)
# the Debian packages it needs. Every step is idempotent: the second run takes seconds.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEBS   := espeak-ng
TEST_DEBS := chromium sox fonts-noto-core fonts-noto-cjk nginx-light openssl postgresql

.PHONY: run test setup system-deps test-system-deps models lint bench clean

run: setup
	$(BIN)/voice-agent faq load
	$(BIN)/voice-agent serve

test: setup test-system-deps
	@$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests; failing"; exit 1; fi; \
	exit $$rc

setup: system-deps $(STAMP) models

system-deps:
	@scripts/ensure-debs.sh $(DEBS)

test-system-deps:
	@scripts/ensure-debs.sh $(TEST_DEBS)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "voice-agent needs Python >= 3.11"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo ">> installing voice-agent and its dependencies into $(VENV)"
	@echo ">> the first time, llama-cpp-python compiles from source: about 7 minutes on 2 cores"
	@echo ">> (pip caches the built wheel, so later installs take seconds)"
	$(BIN)/python -m pip install --upgrade pip --quiet
	$(BIN)/python -m pip install --progress-bar on -e '.[dev]'
	@touch $(STAMP)

models: $(STAMP)
	@$(BIN)/voice-agent models install

lint: setup
	$(BIN)/ruff check voice_agent tests bench
	$(BIN)/mypy voice_agent

bench: setup
	$(BIN)/python -m bench.stages

clean:
	rm -rf $(VENV) var
