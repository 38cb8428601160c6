# Two commands on a fresh machine with Python 3.11 and make:
#   make run    the main job end to end on the built-in synthetic data (set-up included)
#   make test   the whole test suite (what .ci/run calls)

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SPARK_VENV := .venv-spark
SPARK_TESTS = $(BIN)/python -m pytest tests/spark -p no:cacheprovider --durations=5
CHROMIUM := /usr/bin/chromium
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
JAVA := /usr/bin/java
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export UV_PYTHON_DOWNLOADS := never

.PHONY: install install-spark run test test-spark dagster dashboard sql lint clean

# Bytecode compiled at install: with PYTHONDONTWRITEBYTECODE set (as on these machines) every process
# would otherwise compile its imports again (~3,500 modules, 15 s a start for the CLI, dbt too).
$(BIN)/.installed: pyproject.toml requirements.lock Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	$(BIN)/dbt parse --quiet --project-dir dbt_project --profiles-dir dbt_project
	touch $@

install: $(BIN)/.installed

# The Spark engine (docs/spark.md): dbt-spark and PySpark in their own environment (why:
# requirements-spark.in), and the Java runtime PySpark starts (Debian's OpenJDK 17).
$(SPARK_VENV)/.installed: requirements-spark.lock $(BIN)/.installed
	$(PYTHON) -m venv $(SPARK_VENV)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(SPARK_VENV)/bin/python -r requirements-spark.lock
	touch $@

$(JAVA):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openjdk-17-jre-headless

install-spark: $(SPARK_VENV)/.installed $(JAVA)

# The browser tests drive Debian's Chromium (Playwright cannot download its own here); without a CJK
# font it draws province names and five-level classes (Chinese) as boxes.
$(CHROMIUM) $(CJK_FONT):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-wqy-microhei

run: install
	$(BIN)/credit-reporting-warehouse generate
	$(BIN)/credit-reporting-warehouse run

# Two workers, one test file each at a time (a file's fixtures are built once), the longest files first
# (tests/conftest.py); the slowest 20 listed. Beside them, in a process of its own, tests/spark: Spark
# builds the models DuckDB built (mostly one JVM thread waiting on the next query, it fills the cores
# the two workers leave idle: 5 min alone, ~1 min more for the whole suite); its output follows.
test: install install-spark $(CHROMIUM) $(CJK_FONT)
	@spark_log=$$(mktemp); \
	$(SPARK_TESTS) --basetemp=$$(mktemp -d) > $$spark_log 2>&1 & spark=$$!; \
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=20 --ignore=tests/spark; \
	main=$$?; wait $$spark; spark_status=$$?; \
	echo "== tests/spark (run beside the rest) =="; cat $$spark_log; \
	exit $$(( main || spark_status ))

test-spark: install-spark
	$(SPARK_TESTS)

dagster: install
	$(BIN)/python -m orchestration.dagster_ui

dashboard: install
	$(BIN)/streamlit run dashboards/app.py

sql: install
	$(BIN)/credit-reporting-warehouse sql

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf data dbt_project/target dbt_project/logs
