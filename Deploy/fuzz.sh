#!/usr/bin/env bash
# libFuzzer runs over what peers send before anything checks it: the gateway <-> worker frame decoder,
# the text port's line decoder, the handshake messages (link handshake JSON, a WebSocket
# handshake's query and headers) and the gateway's client WebSocket frame reader. Each target
# (Tests/Fuzz/*Fuzz.swift) is compiled with the sources it exercises (Wire's, or the gateway's
# Sources/WebSocketFrames) under `swiftc -sanitize=fuzzer` (so libFuzzer sees their coverage) and
# linked with the debug build's SwiftNIO objects; it starts from its seed corpus (Tests/Fuzz/Corpus/<target>).
#
#   Deploy/fuzz.sh [executions per target, default 1000000] [target ...]
#
# A crash leaves its input in .build/fuzz/artifacts/<target>/; keep it as a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-1000000}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(GatewayFrameDecoder TextLineDecoder Handshake WebSocketFrameReader)

swift build --target Wire >/dev/null
swift build --target Gateway >/dev/null
build=$(swift build --show-bin-path)
out=.build/fuzz
mkdir -p "$out"

# Clang modules that NIOCore's interface needs.
maps=()
for map in "$build"/*.build/module.modulemap .build/checkouts/swift-nio/Sources/CNIOWindows/include/module.modulemap \
  .build/checkouts/swift-atomics/Sources/_AtomicsShims/include/module.modulemap; do
  [ -f "$map" ] && maps+=(-Xcc "-fmodule-map-file=$map")
done
# The sources a target exercises: the gateway's WebSocket reader, or Wire without LinkKey (swift-crypto,
# which no target needs).
target_sources() {
  sources=()
  case "$1" in
    WebSocketFrameReader) while IFS= read -r file; do sources+=("$file"); done < <(find Sources/WebSocketFrames -name '*.swift' | sort) ;;
    *) while IFS= read -r file; do sources+=("$file"); done < <(find Sources/Wire -name '*.swift' ! -name LinkKey.swift | sort) ;;
  esac
}
objects=()
for module in NIOCore NIOWebSocket NIOHTTP1 CNIOLLHTTP CNIOSHA1 NIOFoundationCompat NIOFoundationEssentialsCompat _NIODataStructures _NIOBase64 NIOConcurrencyHelpers \
  CNIOLinux CNIODarwin CNIOWindows CNIOWASI Atomics _AtomicsShims CNIOAtomics DequeModule InternalCollectionsUtilities ContainersPreview; do
  [ -d "$build/$module.build" ] || continue
  while IFS= read -r -d '' object; do objects+=("$object"); done < <(find "$build/$module.build" -name '*.o' -print0)
done

status=0
for target in "${targets[@]}"; do
  binary="$out/$target"
  target_sources "$target"
  swiftc -sanitize=fuzzer -parse-as-library -module-name "${target}Fuzz" -I "$build/Modules" "${maps[@]}" \
    "${sources[@]}" "Tests/Fuzz/${target}Fuzz.swift" "${objects[@]}" -o "$binary"
  corpus="$out/corpus/$target"
  mkdir -p "$corpus" "$out/artifacts/$target"
  cp Tests/Fuzz/Corpus/"$target"/* "$corpus"/
  echo "fuzz: $target, $runs executions"
  if "$binary" -runs="$runs" -seed=1 -max_len=4096 -artifact_prefix="$out/artifacts/$target/" "$corpus" 2>"$out/$target.log"; then
    grep -E "^Done [0-9]+ runs" "$out/$target.log" | sed "s/^/fuzz: $target: /"
  else
    status=1
    echo "fuzz: $target found a crash; input in $out/artifacts/$target/, log $out/$target.log" >&2
    tail -30 "$out/$target.log" >&2
  fi
done
exit "$status"
