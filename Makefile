# Pipeline API — build, run, test, bench.
# `make run` and `make test` work on a fresh Debian 12 machine (they install what is missing).

CC      ?= cc
# Build folders (separate ones let several builds share a checkout).
O       ?= obj
B       ?= bin
PKGS    := libulfius jansson libpq liborcania libyder gnutls xlsxwriter libcurl
WARN    := -Wall -Wextra -Werror -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes \
           -Wmissing-prototypes -fno-common -Wno-error=deprecated-declarations
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iapi -I$(O)/gen $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lmicrohttpd -lpthread

SRC      := $(wildcard api/*.c api/*/*.c)
OBJ      := $(SRC:%.c=$(O)/%.o) $(O)/gen/embedded.o
SAN_OBJ  := $(SRC:%.c=$(O)/san/%.o) $(O)/san/gen/embedded.o
SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
TSAN_OBJ := $(SRC:%.c=$(O)/tsan/%.o) $(O)/tsan/gen/embedded.o
TSAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
# The SQL the binary applies at migrate, in order: every schema file (by
# number), then the functions files in an order where each SQL function's
# body finds the functions it calls. A functions file left out of the list
# stops the build.
SCHEMA     := $(sort $(wildcard db/schema/*.sql))
FUNCTIONS  := $(addprefix db/functions/,core.sql users.sql lookups.sql accounts.sql settings.sql \
                opportunities.sql idempotency.sql history.sql changes.sql forecast_reports.sql totals.sql dashboard.sql webhooks.sql)
$(if $(filter-out $(FUNCTIONS),$(wildcard db/functions/*.sql)),\
  $(error db/functions/ files missing from FUNCTIONS in the Makefile: $(filter-out $(FUNCTIONS),$(wildcard db/functions/*.sql))))
MIGRATIONS := $(SCHEMA) $(FUNCTIONS)

PG_RUN_DIR  := .pg
PG_RUN_PORT := 5439

# Plain `make` assumes the libraries and npm are there (`make deps` installs them).
.PHONY: all deps lint run test test-sanitize test-tsan test-faults bench clean format check-format valgrind fuzz fuzz-smoke fuzz-build
all: $(B)/crm-api

# A recipe that fails leaves no half-written target (embedded.c) behind.
.DELETE_ON_ERROR:

deps:
	@scripts/deps.sh build

# The /docs page: Redoc's bundle from npm (pinned by docs/package-lock.json,
# installed into $(O)/docs/npm) and the HTML naming it; embed.list says
# what scripts/embed.sh adds to the binary.
DOCS_INPUTS := docs/package.json docs/package-lock.json docs/.npmrc docs/index.html scripts/docs-bundle.sh
$(O)/docs/embed.list: $(DOCS_INPUTS)
	scripts/docs-bundle.sh $(O)/docs

# The names of the embedded SQL files, rewritten only when they change: a
# renamed or removed file rebuilds embedded.c though no file is newer.
$(O)/gen/sql.list: FORCE
	@mkdir -p $(@D)
	@echo '$(MIGRATIONS)' | cmp -s - $@ || echo '$(MIGRATIONS)' > $@
FORCE:

$(O)/gen/embedded.c: scripts/embed.sh openapi.yaml $(MIGRATIONS) $(O)/gen/sql.list $(O)/docs/embed.list
	@mkdir -p $(@D)
	scripts/embed.sh openapi.yaml $(MIGRATIONS) $$(cat $(O)/docs/embed.list) > $@

$(O)/gen/embedded.o: $(O)/gen/embedded.c
	$(CC) -std=c17 -Iapi -c $< -o $@

$(O)/san/gen/embedded.o: $(O)/gen/embedded.c
	@mkdir -p $(@D)
	$(CC) -std=c17 -Iapi -c $< -o $@

$(O)/tsan/gen/embedded.o: $(O)/gen/embedded.c
	@mkdir -p $(@D)
	$(CC) -std=c17 -Iapi -c $< -o $@

$(O)/tsan/%.o: %.c $(wildcard api/*.h api/*/*.h api/*.def)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(TSAN_FLAGS) -c $< -o $@

$(O)/%.o: %.c $(wildcard api/*.h api/*/*.h api/*.def)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(O)/san/%.o: %.c $(wildcard api/*.h api/*/*.h api/*.def)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(B)/crm-api: $(OBJ)
	@mkdir -p $(B)
	$(CC) $(OBJ) -o $@ $(LDLIBS)

$(B)/crm-api-san: $(SAN_OBJ)
	@mkdir -p $(B)
	$(CC) $(SAN_FLAGS) $(SAN_OBJ) -o $@ $(LDLIBS)

$(B)/crm-api-tsan: $(TSAN_OBJ)
	@mkdir -p $(B)
	$(CC) $(TSAN_FLAGS) $(TSAN_OBJ) -o $@ $(LDLIBS)

# Unit tests of the pure C helpers (money, cursors, query parsing...).
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_LIB := $(filter-out $(O)/api/main.o,$(OBJ))
$(B)/unit-tests: $(UNIT_SRC) $(UNIT_LIB)
	@mkdir -p $(B)
	$(CC) $(ALL_CFLAGS) $(UNIT_SRC) $(UNIT_LIB) -o $@ $(LDLIBS)

# The top-level commands install what is missing first, then build in a
# fresh make so that pkg-config sees the libraries just installed.
run:
	@scripts/deps.sh run
	@$(MAKE) --no-print-directory $(B)/crm-api
	@PG_RUN_DIR=$(PG_RUN_DIR) PG_RUN_PORT=$(PG_RUN_PORT) CRM_API_BIN=$(B)/crm-api scripts/run.sh

# The house rules of api/ (scripts/lint.py, ARCHITECTURE.md): its own
# self-test first, so a check that stopped firing fails too.
lint:
	@/usr/bin/python3 scripts/lint.py --self-test
	@/usr/bin/python3 scripts/lint.py api

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory $(B)/crm-api $(B)/unit-tests
	$(B)/unit-tests
	@scripts/lint-openapi.sh
	@scripts/test-api.sh $(B)/crm-api

test-sanitize:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory $(B)/crm-api-san
	@scripts/test-api.sh $(B)/crm-api-san

# The API suite against a ThreadSanitizer build; any report fails it
# (tests/tsan.supp: the libraries' own code only, each entry explained).
test-tsan:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory $(B)/crm-api-tsan
	@TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	  scripts/test-api.sh $(B)/crm-api-tsan

# Fault scenarios (floods, SIGTERM under load, PostgreSQL restarted and
# killed, a 200,000-request soak); FAULTS_ARGS goes to pytest (-m soak...).
test-faults:
	@scripts/deps.sh faults
	@$(MAKE) --no-print-directory $(B)/crm-api
	@scripts/test-faults.sh $(B)/crm-api $(FAULTS_ARGS)

valgrind:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory $(B)/crm-api
	@CRM_API_WRAPPER="valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --log-file=bin/valgrind.log" \
	  scripts/test-api.sh $(B)/crm-api

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory $(B)/crm-api
	@BIN=$(B)/crm-api bench/run.sh

# Fuzzing (libFuzzer; see tests/fuzz/). Each tests/fuzz/fuzz_*.c is a target
# linked with the pure code it drives (no database, no server), built with
# clang and ASan + UBSan into $(O)/fuzz and $(B)/fuzz; `make fuzz` runs each
# for FUZZ_SECONDS on its seed corpus (scripts/fuzz.sh), `make fuzz-smoke`
# for 5 seconds.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_O       := $(O)/fuzz
FUZZ_B       := $(B)/fuzz
FUZZ_SAN     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
# `ok = check_a() & check_b()` runs both checks on purpose (every error is
# reported), which clang would flag.
FUZZ_CFLAGS   = -std=c17 -D_GNU_SOURCE $(WARN) -Wno-bitwise-instead-of-logical $(FUZZ_SAN) -Iapi \
                $(shell pkg-config --cflags jansson 2>/dev/null)
FUZZ_LIB_SRC := api/http/request.c api/http/reply.c api/http/query.c api/http/query_string.c api/app/validate.c \
                api/resources/specs.c api/store/forecast_words.c api/util/alloc.c api/util/strbuf.c api/util/text.c tests/fuzz/support.c
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_O)/%.o)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

$(FUZZ_O)/%.o: %.c $(wildcard api/*.h api/*/*.h api/*.def tests/fuzz/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_B)/fuzz_%: $(FUZZ_O)/tests/fuzz/fuzz_%.o $(FUZZ_LIB_OBJ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $^ -o $@ $(shell pkg-config --libs jansson 2>/dev/null)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_B)/%)
.SECONDARY: $(FUZZ_LIB_OBJ) $(FUZZ_TARGETS:%=$(FUZZ_O)/tests/fuzz/%.o)

fuzz:
	@scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_B) $(FUZZ_O) $(FUZZ_TARGETS)

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=5

format:
	clang-format -i $(SRC) $(wildcard api/*.h api/*/*.h tests/fuzz/*.c tests/fuzz/*.h)

check-format:
	clang-format --dry-run --Werror $(SRC) $(wildcard api/*.h api/*/*.h tests/fuzz/*.c tests/fuzz/*.h)

clean:
	rm -rf $(O) $(B)
