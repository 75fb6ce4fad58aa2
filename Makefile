# Every target builds what it needs from the project's own files: the virtual environment from
# uv.lock and the Debian packages from scripts/debian-deps.sh.
VENV := .venv
UV_VERSION := 0.9.30
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test setup deps lint bench clean

demo: setup deps
	$(VENV)/bin/ashyq demo --serve

test: setup deps
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/python -m pytest

setup: $(VENV)/.synced

$(VENV)/.synced: pyproject.toml uv.lock
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install -q "uv==$(UV_VERSION)"
	python3 -m uv sync --frozen --all-groups
	@touch $@

deps:
	./scripts/debian-deps.sh

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

clean:
	rm -rf $(VENV) .pytest_cache
