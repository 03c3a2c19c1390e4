# Top-level shortcuts. The benchmark: see Deploy/bench.sh for its environment knobs.
.PHONY: bench bench-quick bench-ceiling

bench:
	bash Deploy/bench.sh

bench-quick:
	BENCH_QUICK=1 bash Deploy/bench.sh

bench-ceiling:
	BENCH_ONLY=ceiling bash Deploy/bench.sh
