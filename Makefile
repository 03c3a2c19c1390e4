# Top-level shortcuts. The benchmark: see Deploy/bench.sh for its environment knobs.
.PHONY: bench bench-quick bench-ceiling bench-fleet conformance

bench:
	bash Deploy/bench.sh

bench-quick:
	BENCH_QUICK=1 bash Deploy/bench.sh

bench-ceiling:
	BENCH_ONLY=ceiling bash Deploy/bench.sh

# 5,000 simulated host agents against the datacenter handler; see Deploy/bench-fleet.sh for its knobs.
bench-fleet:
	bash Deploy/bench-fleet.sh

# RFC 6455 conformance of the echo demo (Autobahn|Testsuite's fuzzing client); see Deploy/conformance.sh.
conformance:
	bash Deploy/conformance.sh
