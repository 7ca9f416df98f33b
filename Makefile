# zhibu — the two commands a newcomer needs:
#   make run    runs the offline sandbox with demo data (ZHIBU_TELEGRAM_MODE=sandbox)
#   make test   runs every test against a real local PostgreSQL
SHELL := /bin/bash
# The Go the environment offers: newer than the machine's, with the standard
# library's security fixes; fetched through the module proxy on first use.
export GOTOOLCHAIN ?= go1.27.3
GO ?= go
PKGS := ./...
export ZHIBU_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/zhibu?sslmode=disable
# make install copies bin/zhibu to $(PREFIX)/bin (override: make install PREFIX=$$HOME/.local)
PREFIX ?= /usr/local

.PHONY: run test build db browser vet lint fmt fuzz bench faults clean install

## build: the binary at bin/zhibu
build:
	$(GO) build -o bin/zhibu ./cmd/zhibu

## install: copy bin/zhibu to $(PREFIX)/bin/zhibu (default /usr/local/bin, on the PATH)
install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 bin/zhibu $(DESTDIR)$(PREFIX)/bin/zhibu

## run: start PostgreSQL if needed, then serve the offline sandbox (creates the database)
run: db build
	ZHIBU_TELEGRAM_MODE=sandbox ./bin/zhibu serve

## browser: Chromium and the CJK and emoji fonts for the browser test
browser:
	@scripts/ensure-chromium.sh

## db: make sure the local PostgreSQL is up (installs it when missing)
db:
	@scripts/ensure-postgres.sh

## test: the linters, then every test with the race detector against real PostgreSQL
test: db browser lint
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

## lint: gofmt, go vet, staticcheck and govulncheck (pinned in go.mod as tools)
lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	@scripts/vulncheck.sh

fmt:
	gofmt -l -w .

## faults: the fault suite (SPEC §7.7, docs/SCALING.md): one summary line per case, full output in bin/faults.log
## (FAULTS_LONG=1 make faults: kill9-leader-load at the issue's size, 300 updates/s for 30 s over three replicas)
faults: db
	@mkdir -p bin
	@set -o pipefail; $(GO) test -count=1 -p 1 -v -run Fault ./e2e ./outbox 2>&1 | tee bin/faults.log \
		| grep -E 'fault=|^(--- FAIL|FAIL|ok)' | sed -E 's/^ +[a-z_]+\.go:[0-9]+: //' || { echo "a fault case failed; full output: bin/faults.log"; exit 1; }

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseCheckin -fuzztime 30s ./domain/command/

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./domain/...

clean:
	rm -rf bin
