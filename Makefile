# Trellis developer shortcuts. The app itself runs with ./run (serve, test, worker).
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)

.PHONY: bench bench-quick bench-tools test

## bench: every benchmark (QUALITY P2–P8, S9, S10) → bench/results/latest.md (exit 1 only if a
##   script crashed; the verdicts are in the file — `BENCH_ARGS=--strict` fails on any FAIL)
bench: bench-tools
	$(UV) run python bench/run_all.py $(BENCH_ARGS)

## bench-quick: the same scripts at small sizes, for development (not for the record)
bench-quick: bench-tools
	$(UV) run python bench/run_all.py --quick --output bench/results/quick.md

## bench-tools: Lighthouse (npm) for P7, installed into bench/.tools (not committed)
bench-tools: bench/.tools/node_modules/lighthouse/cli/index.js

bench/.tools/node_modules/lighthouse/cli/index.js:
	mkdir -p bench/.tools
	cd bench/.tools && npm install --no-audit --no-fund --loglevel=error lighthouse@12

test:
	./run test
