# postfixtls — build and test entry points.
#   make test         install missing real components (root, Debian), gofmt check, go vet, go test -race
#   make short        go test -short: skips the conformance suite and the long postmap, posttls-finger,
#                     openssl and nsd/unbound oracle tests (about a minute)
#   make deps         only install the real components (postfix and its pcre, cdb and lmdb maps, nsd, unbound,
#                     ldnsutils, openssl, prometheus, postfix-mta-sts-resolver)
#   make bench        Go benchmarks
#   make conformance  the conformance suite against real Postfix alone (root; prints N passed, N failed);
#                     CONFORMANCE_POSTFIX=3.11.6 (or a build-postfix tree) runs it against an upstream
#                     release, built once from ../shared/oracle/src and cached (~/.cache/postfixtls/postfix)
#   make conformance-releases  the suite against the Debian package, 3.5.27, 3.10.13 and 3.11.6
#                     (one "RELEASE: N passed, N failed" line each and a total)
#   make test also runs the suite against TEST_RELEASES (3.5.27 3.10.13 3.11.6; the Debian package
#                     is already in go test -race), without -race, built from the cache or, on a fresh
#                     machine, with build-postfix (release-deps installs its build dependencies)
#   make conformance-all  the same for the Debian package and every release in ../shared/oracle/src
#   make conformance-fixes  each deferred case's first library fix applied and real Postfix rerun
#                     (root; prints "fixes: N deferred, ..." and the cases the fix does not fix)
GO ?= go
export PATH := $(PATH):/usr/local/go/bin:/usr/sbin:/sbin

.PHONY: test short deps release-deps fmt vet unit bench conformance conformance-fixes conformance-releases conformance-all

CONFORMANCE_RELEASES ?= debian 3.5.27 3.10.13 3.11.6
TEST_RELEASES ?= 3.5.27 3.10.13 3.11.6

test: deps fmt vet release-deps
	$(GO) test -race -count=1 -timeout 30m ./...
	@GO=$(GO) bash scripts/conformance-releases.sh $(TEST_RELEASES)

# build-postfix's compiler, make, m4 and OpenSSL/Berkeley DB headers, installed with
# build-postfix --deps when missing; without root (or the oracle) it fails loudly.
release-deps:
	@bash scripts/release-deps.sh

short:
	$(GO) test -short ./...

deps:
	@bash scripts/setup-deps.sh

fmt:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt: these files need formatting:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

conformance:
	@log=$$(mktemp); $(GO) test -count=1 -timeout 40m -run '^TestConformance$$' -v ./internal/conformance/ >$$log 2>&1; rc=$$?; \
	grep -E -- '^\s*--- (FAIL|SKIP)|_test.go:|^(FAIL|ok|PASS)|^release ' $$log | grep -v 'known difference' | tail -60; \
	grep -E '^[0-9]+ passed, [0-9]+ failed$$' $$log | tail -1; rm -f $$log; exit $$rc

conformance-fixes:
	@log=$$(mktemp); CONFORMANCE_FIXES=1 $(GO) test -count=1 -timeout 40m -run '^TestConformanceFixes$$' -v ./internal/conformance/ >$$log 2>&1; rc=$$?; \
	grep -E -- '^\s*--- (FAIL|SKIP)|^(still fails|not applicable|no fix|downgrade|past TLS): |^(FAIL|ok|PASS)' $$log | tail -80; \
	grep -E '^fixes: ' $$log | tail -1; rm -f $$log; exit $$rc

conformance-releases:
	@GO=$(GO) bash scripts/conformance-releases.sh $(CONFORMANCE_RELEASES)

conformance-all:
	@GO=$(GO) bash scripts/conformance-releases.sh --all
