# Branchline: `make run` serves the whole product on http://127.0.0.1:8000 (embedded
# shape: SQLite + in-memory channel layer); `make test` runs the whole test suite.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
HOST   ?= 127.0.0.1
# daphne's own inbound limit (the app refuses frames over 64 KiB itself, with an
# error frame; daphne closes the socket on anything over this).
WS_DAPHNE_MAX ?= 1048576
# A database name per run: pytest-django creates (and drops) test_<name>, so two runs
# on one server never share a test database.
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/branchline_$(shell echo $$$$)
REDIS_TEST_URL ?= redis://127.0.0.1:6379/0

.PHONY: run install migrate demo serve backup test test-fast test-pg services messages bench clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	mkdir -p var
	$(PY) manage.py migrate --noinput -v 0

demo: migrate
	$(PY) manage.py seed_demo

serve: install
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) \
	  --websocket-max-message-size $(WS_DAPHNE_MAX) --websocket-max-frame-size $(WS_DAPHNE_MAX) \
	  --ping-interval 20 --ping-timeout 30 \
	  server.asgi:application

run: demo
	@echo "Branchline: http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	@if [ "$(HOST)" = "127.0.0.1" ]; then echo "  passkeys (通行密钥) need a name, not an IP address: open http://localhost:$(PORT)/ to try them"; fi
	EMAIL_CONSOLE=$${EMAIL_CONSOLE:-true} $(MAKE) --no-print-directory serve

# The database and the uploaded files in one file under BACKUP_DIR (backups/), while
# the server runs; `manage.py restore FILE --yes` puts one back (docs/deploy.md).
backup: install
	$(PY) manage.py backup $(if $(KEEP),--keep $(KEEP))

# The whole suite: SQLite + in-memory (unit, live-server, browser, scaled-shape tests,
# the last starting their own PostgreSQL database and Redis server), then the unit
# tests again on PostgreSQL + Redis.
test: install
	scripts/services ensure
	$(PY) -m pytest
	$(MAKE) --no-print-directory test-pg

test-fast: install
	$(PY) -m pytest -m "not live and not scaled and not browser"

test-pg: install
	DATABASE_URL=$(PG_TEST_URL) REDIS_URL=$(REDIS_TEST_URL) REDIS_PREFIX=bltest$$$$ \
	  $(PY) -m pytest -m "not live and not scaled and not browser" -p no:cacheprovider

services:
	scripts/services ensure

messages: install
	$(PY) manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

bench: install
	$(PY) bench/fanout.py
	$(PY) bench/idle.py
	$(PY) bench/forum.py
	$(PY) bench/meeting.py

clean:
	rm -rf var .pytest_cache
