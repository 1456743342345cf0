#!/usr/bin/env bash
# tools/gpu-prepare.sh: builds .gpu-bundle/ (../shared/tools/gpu-bundle) and leaves out what the GPU host does not
# need, so that it fits what a device call may carry (64 MiB with the working tree): the javadoc and sources
# jars, and the shaded benchmarks jar (its classes are in the other jars; JMH runs from them by its main class).
# Then, from the project root: run(command="OUT=$OUT bash tools/gpu-first.sh", carry=[".gpu-bundle"]) (DEVELOPERS.md).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
../shared/tools/gpu-bundle "$@"
rm -f .gpu-bundle/lib/*-javadoc.jar .gpu-bundle/lib/*-sources.jar .gpu-bundle/lib/original-*.jar \
      .gpu-bundle/lib/benchmarks.jar
kib=$(du -sk .gpu-bundle | cut -f1)
echo "gpu-prepare: .gpu-bundle is $((kib / 1024)) MiB"
if [ "$kib" -gt $((56 * 1024)) ]; then
  echo "gpu-prepare: over 56 MiB: with the working tree it may not fit the 64 MiB a device call carries" >&2
  exit 1
fi
