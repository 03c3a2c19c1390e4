# Top-level shortcuts. The benchmark: see Deploy/bench.sh for its environment knobs.
.PHONY: bench bench-quick bench-ceiling conformance

bench:
	bash Deploy/bench.sh

bench-quick:
	BENCH_QUICK=1 bash Deploy/bench.sh

bench-ceiling:
	BENCH_ONLY=ceiling bash Deploy/bench.sh

# RFC 6455 conformance of the echo demo (Autobahn|Testsuite's fuzzing client); see Deploy/conformance.sh.
conformance:
	bash Deploy/conformance.sh
