# p2plab: `make` lists the targets. Labs and benches build in release: they measure.
CARGO   ?= cargo
LABS    := napster
LABS    += gnutella
LABS    += kazaa
LABS    += dht
LABS    += problems
LABS    += bittorrent
LABS    += distribution
BENCHES := napster
BENCHES += bittorrent
BENCHES += bittorrent_swarm
BENCHES += gnutella
BENCHES += kazaa
BENCHES += dht
BENCHES += problems
ARGS    ?=
FUZZ_SECONDS ?= 20
FUZZ_TARGETS = $(basename $(notdir $(wildcard fuzz/fuzz_targets/*.rs)))

.PHONY: help build test lint doc bench interop fuzz $(addprefix lab-,$(LABS))

help:
	@echo "p2plab: the P2P chapter of the notes, run for real"
	@echo ""
	@echo "  make lab-<name>   run a lab (ARGS='--seed 7' passes options): $(LABS)"
	@echo "  make test         unit and integration tests on 127.0.0.1"
	@echo "  make lint         cargo fmt --check and clippy -D warnings"
	@echo "  make bench        every bench program; tables on stdout, figures in target/bench/"
	@echo "  make fuzz         each decoder's cargo-fuzz target for FUZZ_SECONDS (nightly + cargo-fuzz)"
	@echo "  make interop      tests against real third-party tools (aria2c, opentracker, tshark)"
	@echo "  make build        release build of the CLI, the labs and the benches"
	@echo "  make doc          API docs with the notes map (target/doc/p2plab/index.html)"

build:
	$(CARGO) build --release --bins

test:
	$(CARGO) test --release

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

doc:
	$(CARGO) doc --no-deps

bench:
	@mkdir -p target/bench
	$(CARGO) build --release --bins
	@set -e; for b in $(BENCHES); do ./target/release/bench-$$b; done

interop:
	@set -e; found=0; for t in tests/interop/*.sh; do \
	  [ -e "$$t" ] || continue; found=1; echo "== $$t"; bash "$$t"; done; \
	  [ $$found = 1 ] || echo "no interop tests yet"

# Nightly only (libFuzzer): where it is missing, say so and succeed; `make test` still
# runs the seeded mutation test of every decoder (tests/mutation.rs) on stable.
fuzz:
	@if ! $(CARGO) +nightly fuzz --version >/dev/null 2>&1; then \
	  echo "make fuzz needs a nightly toolchain and cargo-fuzz: rustup toolchain install nightly && cargo install cargo-fuzz"; \
	  exit 0; fi; \
	set -e; cd fuzz; for t in $(FUZZ_TARGETS); do echo "== fuzz $$t ($(FUZZ_SECONDS) s)"; \
	  mkdir -p corpus/$$t; \
	  $(CARGO) +nightly fuzz run $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1; done

# A static pattern rule: make skips plain pattern rules for targets listed in .PHONY.
$(addprefix lab-,$(LABS)): lab-%:
	$(CARGO) run --release --quiet --bin lab-$* -- $(ARGS)
