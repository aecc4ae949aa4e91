# zimport — developer entry points. `make` lists the targets.
#
#   make run    start everything locally (Redis + PostgreSQL + API + worker) and run the demo
#   make test   run the whole test suite against private Redis/PostgreSQL instances
#
# Backing services come from scripts/services.sh (reuses ZIMPORT_DATABASE_URL /
# ZIMPORT_REDIS_ADDR if set and reachable, else docker compose, else private
# instances under .run/). Their settings are in .run/env.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO      ?= go
BIN     = bin/zimport
PKG     ?= ./...
API_URL ?= http://127.0.0.1:8080
ENV     = . ./.run/env

.PHONY: help build services migrate run up down demo test test-short bench lint clean

help: ## list the targets
	@echo 'usage: make <target>'
	@echo
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_-]+:.*## / { printf "  %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

build: ## build bin/zimport
	$(GO) build -o $(BIN) ./cmd/zimport

services: ## start Redis + PostgreSQL (if needed) and write .run/env
	bash scripts/services.sh up

migrate: services build ## apply database migrations
	$(ENV) && $(BIN) migrate

run: services build ## run API + worker in the foreground, run the demo (Ctrl-C stops)
	BIN=$(BIN) bash scripts/run.sh run

up: services build ## start API + worker in the background (log .run/zimport.log)
	BIN=$(BIN) bash scripts/run.sh up

down: ## stop the background server and the backing services
	bash scripts/run.sh stop
	bash scripts/services.sh down

demo: build ## run the demo against a running stack (API_URL=http://127.0.0.1:8080)
	$(ENV) && export ZIMPORT_API_URL="$${ZIMPORT_API_URL:-$(API_URL)}" ZIMPORT_DEMO_PAT_FILE=.run/demo-pat \
		ZIMPORT_LOCAL_IMPORT_DIR="$${ZIMPORT_LOCAL_IMPORT_DIR:-$$PWD/.run/imports}" && $(BIN) demo

test: services ## run all tests with -race
	$(ENV) && export ZIMPORT_TEST_DATABASE_URL ZIMPORT_TEST_REDIS_ADDR="$$ZIMPORT_REDIS_ADDR" && \
		$(GO) test -race -count=1 -timeout 60m $(PKG)

test-short: services ## run all tests without -race
	$(ENV) && export ZIMPORT_TEST_DATABASE_URL ZIMPORT_TEST_REDIS_ADDR="$$ZIMPORT_REDIS_ADDR" && \
		$(GO) test -count=1 -timeout 60m $(PKG)

bench: services ## run the benchmarks
	$(ENV) && export ZIMPORT_TEST_DATABASE_URL ZIMPORT_TEST_REDIS_ADDR="$$ZIMPORT_REDIS_ADDR" && \
		$(GO) test -run '^$$' -bench . -benchmem -count=1 $(PKG)

lint: ## gofmt check + go vet
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt -w needed for:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKG)

clean: ## remove bin/
	rm -rf bin/
