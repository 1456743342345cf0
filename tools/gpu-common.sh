# Shared by gpu-first.sh and gpu-second.sh (sourced, not run): where tpk comes from, the time budget, and `step`,
# which runs one command in a process of its own under a time cap and writes one summary line for it.
#
# tpk runs from the GPU bundle (.gpu-bundle/run, built by tools/gpu-prepare.sh: no JDK or Maven on a GPU host), or,
# without one, from this checkout's bin/tpk (a built project). With TPK_CUDA_LIBRARY_PATH set (the CPU emulator
# of CUDA) the scripts make a dry run: the same steps on small shapes, so that CI keeps them from rotting.

T0=$SECONDS
BUDGET=${BUDGET_S:-520}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 2
out=${OUT:?set OUT to the folder the results go to}
work=${WORK:-$(mktemp -d)}
mkdir -p "$out" "$work"
ulimit -c 0
export PYTHONUNBUFFERED=1 CUDA_CACHE_PATH=${CUDA_CACHE_PATH:-$work/cuda-jit-cache} CUDA_CACHE_MAXSIZE=1073741824
bundle=.gpu-bundle/run
DRY=0
[ -n "${TPK_CUDA_LIBRARY_PATH:-}" ] && DRY=1

# tpk_with [-Dprop=value...]: sets TPK to the command (an array) that runs tpk with those JVM properties, and
# TPK_LINE to the same as one shell-quoted string (for a program that starts tpk itself).
tpk_with() {
  if [ -f "$bundle" ]; then
    TPK=(bash "$bundle" main "$@" io.tpkernels.cli.Tpk)
  else
    TPK=(env "TPK_JAVA_OPTS=-XX:+UseSerialGC${*:+ $*}" "$root/bin/tpk")
  fi
  TPK_LINE=$(printf '%q ' "${TPK[@]}")
}
tpk_with

left() { echo $((BUDGET - (SECONDS - T0))); }

# start_summary NAME: an empty $out/summary.txt (S) with its first line; quick=(--quick) on a dry run.
start_summary() {
  S=$out/summary.txt
  : > "$S"
  quick=()
  [ $DRY = 1 ] && quick=(--quick)
  echo "$1: $(date -u +%FT%TZ), budget $BUDGET s$([ $DRY = 1 ] && echo ', DRY RUN on the CPU emulator: no speed')" \
    | tee -a "$S"
}

# step NAME CAP LOG COMMAND...: COMMAND for at most min(CAP, time left - 10) s, its output appended to LOG as it
# comes. At the cap: SIGQUIT first (a JVM prints every thread's stack into LOG: where it hung), SIGKILL 10 s later.
# One line per step in the summary $S; returns the command's status (99: skipped for lack of time).
step() {
  local name=$1 cap=$2 log=$3; shift 3
  local l t rc t1=$SECONDS verdict
  l=$(( $(left) - 10 ))
  t=$(( cap < l ? cap : l ))
  if [ "$t" -lt 15 ]; then
    printf '%-34s %5s  %s\n' "$name" - "SKIPPED: no time left" | tee -a "$S"
    return 99
  fi
  echo "===== $name (cap $t s, at +$((SECONDS - T0)) s): $*" >> "$log"
  timeout -s QUIT -k 10 "$t" "$@" >> "$log" 2>&1
  rc=$?
  case $rc in
    0) verdict=ok ;;
    124|131|137) verdict="TIMED OUT after $t s (rc $rc): the thread dump is at the end of $(basename "$log")" ;;
    *) verdict="FAILED (rc $rc): see $(basename "$log")" ;;
  esac
  printf '%-34s %4d s  %s\n' "$name" $((SECONDS - t1)) "$verdict" | tee -a "$S"
  return $rc
}

# skip NAME WHY: a summary line for a step this host cannot run.
skip() {
  printf '%-34s %5s  %s\n' "$1" - "skipped: $2" | tee -a "$S"
}
