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
# In a handout (no solutions/), make test runs the learner's checks (harness/board --test),
# IMPL defaults to starter, and the targets that need the solutions say so and stop.
#
# Learners:     make watch | hint LAB=01 | run LAB=01 | reset LAB=01 | solution LAB=01
# Instructors:  harness/grade SUBMISSION... (docs/instructors.md) | make gradescope | make handout
#
# SANITIZE=address,undefined (or thread) builds into build/sanitize-*/ and tests that.

CC       ?= cc
CFLAGS   ?= -O2 -g
SANITIZE ?=
# A handout (harness/package handout) has no solutions/: the learner's starters are the default.
HAVE_SOLUTIONS := $(if $(wildcard solutions/[0-9][0-9]-*/),yes)
IMPL     ?= $(if $(HAVE_SOLUTIONS),solutions,starter)
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

.PHONY: board all build lib test test-lab unit unit-build conformance deps clean \
	watch hint run reset solution gradescope handout fuzz lint memcheck bench bench-docs

# Without solutions/ (a handout), what needs them stops at once with one line that says why,
# not make's "No rule to make target build/solutions/...".
SOLUTIONS_ONLY := conformance fuzz lint memcheck bench bench-docs gradescope handout solution
why_conformance := compares the reference solutions with the Python originals
why_fuzz        := fuzzes the reference solutions' decoders
why_lint        := checks the reference solutions' code with the rest
why_memcheck    := runs the reference solutions under valgrind
why_bench       := measures the reference solutions
why_bench-docs  := writes the reference solutions' measurements into the docs
why_gradescope  := packages the instructor's copy of the course, which has the solutions
why_handout     := packages the instructor's copy of the course, which has the solutions
why_solution    := shows the reference solution once your lab passes
ifeq ($(HAVE_SOLUTIONS),)
only := $(firstword $(filter $(SOLUTIONS_ONLY),$(MAKECMDGOALS)))
ifneq ($(only),)
$(error make $(only) $(why_$(only)): this copy of the labs is a handout, without solutions/)
endif
only := $(firstword $(filter build all test-lab,$(MAKECMDGOALS)))
ifneq ($(and $(only),$(filter solutions,$(IMPL))),)
$(error make $(only) IMPL=solutions: this copy of the labs is a handout, without solutions/; IMPL=starter (the default here) builds yours)
endif
endif
# make reset restores the starter from git: a handout must be made a repository first.
ifneq ($(filter reset,$(MAKECMDGOALS)),)
ifneq ($(shell git rev-parse --is-inside-work-tree 2>/dev/null),true)
$(error make reset: not a git work tree, so there is no original starter to restore (your files are untouched); after unpacking the labs, run: git init && git add -A && git commit -m start)
endif
endif

board: deps
	@harness/board

all: build

deps:
	@harness/deps

LIBOBJ := $(patsubst labs/common/%.c,$(BUILD)/common/%.o,$(wildcard labs/common/*.c))

# Every output is written under a temporary name and renamed into place: two makes building
# the same file at once (the board's labs side by side, or IMPL=solutions beside
# IMPL=starter) then each leave a whole file, never one interleaved (ar: file format not
# recognized).  harness/board builds the library once (make lib) before its labs.
$(BUILD)/common/%.o: labs/common/%.c $(wildcard labs/common/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@.$$$$.tmp && mv -f $@.$$$$.tmp $@

$(BUILD)/liblab.a: $(LIBOBJ)
	rm -f $@.$$$$.tmp && $(AR) rcs $@.$$$$.tmp $^ && mv -f $@.$$$$.tmp $@

lib: $(BUILD)/liblab.a

# Libraries a lab links beyond libc.
# Every program links -pthread: lab_catch_signals() waits for SIGINT/SIGTERM in a thread.
LDLIBS_05-hmac-auth := -lcrypto
LDLIBS_07-tls       := -lssl -lcrypto

# One rule per lab and implementation: OUTDIR/prog from SRCDIR/prog.c, plus any other .c
# file there (a module both programs share, such as 04's frame.c).
define lab_rules
$(2)/%: $(1)/%.c $(filter-out $(addprefix $(1)/,$(addsuffix .c,$(PROGS))),$(wildcard $(1)/*.c)) $(wildcard $(1)/*.h) $(BUILD)/liblab.a $(wildcard labs/common/*.h)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) -I$(1) $$(filter %.c,$$^) $(BUILD)/liblab.a -o $$@.$$$$$$$$.tmp -pthread $$(LDLIBS) $(LDLIBS_$(3)) && mv -f $$@.$$$$$$$$.tmp $$@
endef
$(foreach L,$(SEL),$(eval $(call lab_rules,$(call srcdir,$(L)),$(call outdir,$(L)),$(L))))

build: $(foreach L,$(SEL),$(addprefix $(call outdir,$(L))/,$(PROGS)))

$(BUILD)/unit/test_lab: harness/unit/test_lab.c $(BUILD)/liblab.a labs/common/lab.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< $(BUILD)/liblab.a -o $@.$$$$.tmp -pthread && mv -f $@.$$$$.tmp $@

$(BUILD)/unit/test_json: harness/unit/test_json.c $(BUILD)/liblab.a labs/common/json.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< $(BUILD)/liblab.a -o $@.$$$$.tmp && mv -f $@.$$$$.tmp $@

unit-build: $(BUILD)/unit/test_lab $(BUILD)/unit/test_json

unit: $(BUILD)/unit/test_lab $(BUILD)/unit/test_json
	$(BUILD)/unit/test_lab
	$(BUILD)/unit/test_json

conformance: deps build $(BUILD)/unit/test_lab $(BUILD)/unit/test_json
	@PY=$$(harness/find-python) && $$PY -m pytest harness/conformance -c harness/conformance/pytest.ini

# The suite's self-check (harness/test-all); in a handout, the learner's own checks instead:
# every lab's tests on the starter, the given code's self-check and the library's unit tests
# (harness/board --test; LAB= and FILTER= narrow it).
ifneq ($(HAVE_SOLUTIONS),)
TEST_RUN := harness/test-all
else
TEST_RUN := harness/board --test $${FILTER:+--filter "$$FILTER"} $(LAB)
endif
test: deps
ifneq ($(HAVE_SOLUTIONS),)
	@$(MAKE) -s build IMPL=solutions LAB=
	@$(MAKE) -s build IMPL=starter LAB=
	@$(MAKE) -s $(BUILD)/unit/test_lab $(BUILD)/unit/test_json
endif
	@i=1; while [ $$i -le $(REPEAT) ]; do \
		[ $(REPEAT) = 1 ] || echo "== make test: run $$i of $(REPEAT)"; \
		$(TEST_RUN) || { [ $(REPEAT) = 1 ] || echo "== run $$i of $(REPEAT) failed"; exit 1; }; \
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
	@harness/learn watch $(LAB)
hint run reset solution: deps
	@harness/learn $@ $(LAB)

# The instructor's packages, into dist/.
gradescope handout:
	@harness/package $(if $(and $(LAB),$(filter gradescope,$@)),--labs $(LAB)) $@

# Not .lab/: the hints read, the board's current lab and reset's backups stay.
clean:
	rm -rf build dist
