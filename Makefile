# The two commands of the README: `make run` and `make test`.
# Both work on a fresh machine that has only Python >= 3.11 and make.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= anct_portal.settings

.PHONY: run test venv lint format messages translations migrate data territories-data dashboard-assets bench profile bench-dashboard loadtest clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed

messages: venv
	DEBUG=true $(BIN)/python manage.py compile_translations

# Refresh the English catalogue from the sources (needs GNU gettext), then translate what is new.
translations: venv
	DEBUG=true $(BIN)/python manage.py makemessages -l en --no-obsolete \
		-i ".venv/*" -i "var/*" -i "node_modules/*" -i "tests/*"

# Zero-setup development server: SQLite, embedded broker, mails written under var/mail.
run: export DEBUG ?= true
run: venv messages
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_territories
	$(BIN)/python manage.py load_programmes
	$(BIN)/python manage.py create_demo_data
	$(BIN)/python -m anct_portal.devserver --host $(HOST) --port $(PORT)

test: export DJANGO_SETTINGS_MODULE = anct_portal.settings_test
test: venv messages
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Rebuilds the committed territories data file from the official npm package (needs npm).
territories-data: venv
	$(BIN)/python scripts/build_territories.py

# Rebuilds the dashboard's vendored Chart.js and département map from pinned npm packages.
dashboard-assets: venv
	$(BIN)/python scripts/vendor_dashboard_assets.py

# National-scale benchmark: gunicorn + wrk against a one-query baseline, budgets checked (needs
# PostgreSQL, Redis and wrk). QUICK=1: 200,000 requests, under 3 minutes; without it, also the
# delegates' pages at 1,000,000. Drops and recreates BENCH_DATABASE_URL. Report in var/bench/.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/anct_bench
bench: venv
	@command -v wrk >/dev/null || { echo "wrk is needed (Debian: apt-get install wrk)"; exit 1; }
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) \
		$(BIN)/python scripts/bench.py $(if $(QUICK),--quick) $(BENCH_ARGS)

# Where a page's time goes, in-process, on the database the last `make bench` left:
# make profile PAGE=official_list [PROFILE=1]
profile: venv
	$(BIN)/python scripts/profile_page.py $(PAGE) $(if $(PROFILE),--profile)

# Times the dashboard pages on 200,000 generated requests (needs PostgreSQL; drops BENCH_DB).
BENCH_DB ?= postgres://postgres@127.0.0.1:5432/anct_bench_dashboard
bench-dashboard: venv
	$(BIN)/python scripts/bench_dashboard.py --database-url $(BENCH_DB)

# Load and fault test: users on gunicorn + Celery, then Redis and the mail server failing (needs
# PostgreSQL and redis-server). QUICK=1: the short mode CI runs. Drops and recreates
# LOADTEST_DATABASE_URL (its name must start with anct_ops_). Figures in var/loadtest/.
LOADTEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/anct_ops_loadtest
loadtest: venv
	LOADTEST_DATABASE_URL=$(LOADTEST_DATABASE_URL) \
		$(BIN)/python scripts/load_faults.py $(if $(QUICK),--quick) $(LOADTEST_ARGS)

clean:
	rm -rf $(VENV) var
