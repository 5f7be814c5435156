# Makefile - build, test and track the socket labs.  `make` shows your progress board.
#
#   make                     progress board over your labs (labs/*/starter)
#   make test                everything: solutions pass, starters fail, conformance, unit tests
#                            (REPEAT=N: N times, stopping at the first failure; LAB_DEADLINE=S
#                            scales every wait, 10 s by default, for slow machines)
#   make test-lab LAB=01     one lab's tests on IMPL=solutions (default), starter, or a DIR
#                            (FILTER=REGEX: only the tests whose names match)
#   make build [IMPL=starter] [LAB=01]
#   make fuzz [FUZZ_SECONDS=60]  libFuzzer on the codec and the decoders (clang)
#   make lint                clang-tidy (.clang-tidy), cppcheck and clang-format on all C
#   make memcheck [LAB=01]   every solution program under valgrind, driven by its lab's tests
#   make bench [QUICK=1]     C solutions against the Python originals, one C load generator
#                            (build/bench/results.json); make bench-docs puts it in the docs
#   make clean
#
# Learners:     make watch | hint LAB=01 | run LAB=01 | reset LAB=01 | solution LAB=01
# Instructors:  harness/grade SUBMISSION... (docs/instructors.md) | make gradescope | make handout
#
# SANITIZE=address,undefined (or thread) builds into build/sanitize-*/ and tests that.

CC       ?= cc
CFLAGS   ?= -O2 -g
SANITIZE ?=
IMPL     ?= solutions
LAB      ?=
FILTER   ?=
REPEAT   ?= 1

comma := ,
STD      = -std=c11 -D_POSIX_C_SOURCE=200809L
WARN     = -Wall -Wextra -Werror -pedantic
SANFLAGS = $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer)
BUILD    = build$(if $(SANITIZE),/sanitize-$(subst $(comma),-,$(SANITIZE)))
ALL_CFLAGS = $(STD) $(WARN) $(CFLAGS) $(SANFLAGS) -Ilabs/common

LABS     := $(notdir $(wildcard labs/[0-9][0-9]-*))
SEL      := $(if $(LAB),$(filter $(LAB)%,$(LABS)),$(LABS))
PROGS    := server client

# Where IMPL's sources for lab $(1) are, and where its programs are built.
srcdir = $(if $(filter solutions,$(IMPL)),solutions/$(1),$(if $(filter starter,$(IMPL)),labs/$(1)/starter,$(firstword $(wildcard $(IMPL)/$(1)/starter/ $(IMPL)/$(1)/) $(IMPL))))
outdir = $(BUILD)/$(if $(filter solutions starter,$(IMPL)),$(IMPL),custom/$(subst /,_,$(abspath $(IMPL))))/$(1)

export LAB_BUILD := $(CURDIR)/$(BUILD)

.PHONY: board all build test test-lab unit conformance deps clean \
	watch hint run reset solution gradescope handout fuzz lint memcheck bench bench-docs
board: deps
	@harness/board

all: build

deps:
	@harness/deps

LIBOBJ := $(patsubst labs/common/%.c,$(BUILD)/common/%.o,$(wildcard labs/common/*.c))

$(BUILD)/common/%.o: labs/common/%.c $(wildcard labs/common/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/liblab.a: $(LIBOBJ)
	$(AR) rcs $@ $^

# Libraries a lab links beyond libc.
# Every program links -pthread: lab_catch_signals() waits for SIGINT/SIGTERM in a thread.
LDLIBS_05-hmac-auth := -lcrypto

# One rule per lab and implementation: OUTDIR/prog from SRCDIR/prog.c, plus any other .c
# file there (a module both programs share, such as 04's frame.c).
define lab_rules
$(2)/%: $(1)/%.c $(filter-out $(addprefix $(1)/,$(addsuffix .c,$(PROGS))),$(wildcard $(1)/*.c)) $(wildcard $(1)/*.h) $(BUILD)/liblab.a $(wildcard labs/common/*.h)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) -I$(1) $$(filter %.c,$$^) $(BUILD)/liblab.a -o $$@ -pthread $$(LDLIBS) $(LDLIBS_$(3))
endef
$(foreach L,$(SEL),$(eval $(call lab_rules,$(call srcdir,$(L)),$(call outdir,$(L)),$(L))))

build: $(foreach L,$(SEL),$(addprefix $(call outdir,$(L))/,$(PROGS)))

$(BUILD)/unit/test_lab: harness/unit/test_lab.c $(BUILD)/liblab.a labs/common/lab.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< $(BUILD)/liblab.a -o $@ -pthread

$(BUILD)/unit/test_json: harness/unit/test_json.c $(BUILD)/liblab.a labs/common/json.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< $(BUILD)/liblab.a -o $@

unit: $(BUILD)/unit/test_lab $(BUILD)/unit/test_json
	$(BUILD)/unit/test_lab
	$(BUILD)/unit/test_json

conformance: deps build $(BUILD)/unit/test_lab $(BUILD)/unit/test_json
	@PY=$$(harness/find-python) && $$PY -m pytest harness/conformance -c harness/conformance/pytest.ini

test: deps
	@$(MAKE) -s build IMPL=solutions LAB=
	@$(MAKE) -s build IMPL=starter LAB=
	@$(MAKE) -s $(BUILD)/unit/test_lab $(BUILD)/unit/test_json
	@i=1; while [ $$i -le $(REPEAT) ]; do \
		[ $(REPEAT) = 1 ] || echo "== make test: run $$i of $(REPEAT)"; \
		harness/test-all || { [ $(REPEAT) = 1 ] || echo "== run $$i of $(REPEAT) failed"; exit 1; }; \
		i=$$((i + 1)); \
	done; [ $(REPEAT) = 1 ] || echo "== $(REPEAT) runs in a row passed"

test-lab: deps build
	@test -n "$(SEL)" || { echo "make test-lab: no lab matches LAB=$(LAB) (have: $(LABS))" >&2; exit 2; }
	@for l in $(SEL); do LAB_BIN=$(CURDIR)/$(call outdir,$$l) \
		LAB_IMPL_DESC='IMPL=$(IMPL)$(if $(SANITIZE), SANITIZE=$(SANITIZE))' \
		harness/bats-run $${FILTER:+--filter "$$FILTER"} labs/$$l/$$l.bats || exit 1; done

# libFuzzer targets (harness/fuzz): the JSON codec, the repr printer, backslashreplace and
# lesson 04's frame decoder, each built with clang from the sources it tests.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := json repr bsr frame
FUZZ_DIR     := build/fuzz
FUZZ_CFLAGS   = $(STD) $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Ilabs/common -Isolutions/04-struct-framing
FUZZ_SRC     := $(wildcard labs/common/*.c)
FUZZ_SRC_frame := solutions/04-struct-framing/frame.c

$(FUZZ_DIR)/fuzz_%: harness/fuzz/fuzz_%.c $(FUZZ_SRC) $(wildcard labs/common/*.h) solutions/04-struct-framing/frame.[ch]
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) $< $(FUZZ_SRC) $(FUZZ_SRC_$*) -o $@

fuzz:
	@harness/deps fuzz
	@$(MAKE) -s $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_TARGETS))
	@harness/fuzz/run $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

memcheck: deps
	@harness/deps valgrind
	@$(MAKE) -s build IMPL=solutions
	@harness/memcheck $(patsubst %,%,$(foreach L,$(SEL),$(firstword $(subst -, ,$(L)))))

# Benchmarks (harness/bench, docs/performance.md): the solutions and the Python originals
# driven by one C load generator, on loopback.  Not a test: nothing asserts a speed.
# QUICK=1 runs each measurement once, briefly (CI: that it runs and reports).
$(BUILD)/bench/loadgen: harness/bench/loadgen.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< -o $@ -lcrypto

$(BUILD)/bench/jsonbench: harness/bench/jsonbench.c $(BUILD)/liblab.a labs/common/json.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< $(BUILD)/liblab.a -o $@

bench: deps
	@harness/deps bench || echo "bench: no iperf3: the load generator measures the loopback limit" >&2
	@$(MAKE) -s build IMPL=solutions LAB=
	@$(MAKE) -s $(BUILD)/bench/loadgen $(BUILD)/bench/jsonbench
	@ulimit -n $$(ulimit -Hn) && PY=$$(harness/find-python --any) && \
		$$PY harness/bench/run.py --build $(BUILD) $(if $(QUICK),--quick)

bench-docs:
	@harness/deps bench
	@PY=$$(harness/find-python --any) && $$PY harness/bench/report.py $(BUILD)/bench/results.json

# Static analysis of every C file: the course library, solutions, starters and the harness's.
LINT_SRC := $(sort $(wildcard labs/common/*.c solutions/*/*.c labs/*/starter/*.c harness/unit/*.c harness/fuzz/*.c harness/bench/*.c))
LINT_INC := -Ilabs/common $(addprefix -I,$(sort $(dir $(wildcard solutions/*/*.h))))
lint:
	@harness/deps lint
	@echo "lint: clang-format"
	@clang-format --dry-run -Werror $(LINT_SRC) $(wildcard labs/common/*.h solutions/*/*.h labs/*/starter/*.h)
	@echo "lint: cppcheck"
	@cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,style,performance,portability \
		--inline-suppr --suppressions-list=harness/lint/cppcheck.supp -D_POSIX_C_SOURCE=200809L \
		-Ilabs/common $(LINT_SRC)
	@echo "lint: clang-tidy"
	@mkdir -p $(BUILD); clang-tidy --quiet $(LINT_SRC) -- $(STD) -D_DEFAULT_SOURCE $(LINT_INC) \
		>$(BUILD)/clang-tidy.log 2>&1; rc=$$?; grep -v ' generated\.$$' $(BUILD)/clang-tidy.log; exit $$rc
	@echo "lint: clean"

# The learner's tools (harness/learn): each takes the lab as LAB=NN; watch finds it alone.
watch: deps
	@harness/deps watch || echo "make watch: no inotifywait; checking for changes every second"
	@harness/learn watch $(LAB)
hint run reset solution: deps
	@harness/learn $@ $(LAB)

# The instructor's packages, into dist/.
gradescope handout:
	@harness/package $(if $(and $(LAB),$(filter gradescope,$@)),--labs $(LAB)) $@

clean:
	rm -rf build dist
