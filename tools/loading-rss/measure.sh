#!/usr/bin/env bash
# tools/loading-rss/measure.sh: the peak resident set of `tpk forward --backend cpu` at tp 1 and tp 2 on a demo
# model of about 1 GB F32 (cuda-src/PERF-NOTES.md, "Resident memory while loading"), beside the same forward of
# the 1.4 MB demo model (the JVM's own) and, given a Python with torch and safetensors, PyTorch's.
#
#   tools/loading-rss/measure.sh DIR [PYTHON]
#
# DIR receives the models (written once; about 1.1 GB). Build first: ./mvnw -B -o -q package -DskipTests.
# tpk runs twice (through TPK_JAVA_OPTS): with G1, the JVM's default, and with a small serial heap, which keeps the
# CPU forward's short-lived garbage from growing the heap's resident pages by a varying 100 to 300 MiB (bin/tpk's
# own default is the serial collector).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:?usage: measure.sh DIR [PYTHON]}
python=${2:-}
. "$root/.mvn/find-jdk.sh"
tpk_find_jdk || { echo "measure.sh: no JDK 22 or newer" >&2; exit 1; }
classpath=$(ls "$root"/cli/target/lib/*.jar | tr '\n' ':')
tokens=1,2,3,4,5,6,7,8

write() { # NAME VOCAB HIDDEN INTERMEDIATE LAYERS
  [ -f "$dir/$1/model.safetensors" ] || "$TPK_JDK/bin/java" -cp "$classpath" "$root/tools/loading-rss/WriteModel.java" \
      "$dir/$1" "$2" "$3" "$4" "$5"
}

peak() { # prints "PEAK FILE": the command's peak resident set (VmHWM) and the most of it that mapped files were
  # (RssFile: the model's pages, and the JVM's or Python's own libraries), in MiB, sampled every 20 ms
  "$@" > /dev/null 2>&1 &
  local pid=$! hwm=0 file=0 h f
  while kill -0 $pid 2> /dev/null; do
    read -r h f < <(awk '/^VmHWM/ {h = $2} /^RssFile/ {f = $2} END {print h + 0, f + 0}' \
        /proc/$pid/status 2> /dev/null || echo "0 0")
    [ "$h" -gt "$hwm" ] && hwm=$h
    [ "$f" -gt "$file" ] && file=$f
    sleep 0.02
  done
  wait $pid
  echo "$((hwm / 1024)) $((file / 1024))"
}

ratio() { awk -v p="$1" -v w="$weights" 'BEGIN {printf "%.2fx", p / w}'; }

mkdir -p "$dir"
write big 32000 1024 4096 16
write tiny 1003 64 192 6
weights=$(( 4 * (2 * 32000 * 1024 + 3 * 16 * 1024 * 4096) >> 20 ))
echo "weights: $weights MiB of F32, all held by the ranks at any tp (every tensor is split)"
for opts in "-XX:+UseG1GC" "-XX:+UseSerialGC -Xmx128m"; do
  for tp in 1 2; do
    read -r big bigfile < <(TPK_JAVA_OPTS="$opts" peak "$root/bin/tpk" forward --backend cpu --model "$dir/big" \
        --tokens $tokens --tp $tp --out "$dir/out.safetensors")
    read -r tiny tinyfile < <(TPK_JAVA_OPTS="$opts" peak "$root/bin/tpk" forward --backend cpu --model "$dir/tiny" \
        --tokens $tokens --tp $tp --out "$dir/out.safetensors")
    echo "tpk tp $tp $opts: peak $big MiB ($(ratio "$big")), mapped files at most $bigfile MiB;" \
        "1.4 MB model: peak $tiny MiB, mapped files $tinyfile MiB"
  done
done
if [ -n "$python" ]; then
  read -r torch torchfile < <(peak "$python" "$root/tools/loading-rss/torch_forward.py" "$dir/big" $tokens)
  read -r empty emptyfile < <(peak "$python" -c "import torch, safetensors.torch")
  echo "torch: peak $torch MiB ($(ratio "$torch")), mapped files at most $torchfile MiB;" \
      "importing torch alone: $empty MiB, mapped files $emptyfile MiB"
fi
