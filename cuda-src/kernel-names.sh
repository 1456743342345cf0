# kernel-names.sh: sourced by build-ptx.sh and generate-java.sh, which must read a .cu file's kernel names alike.
#
# A .cu file names the kernels it defines (its CUDA module's entry points) on lines
#   // tpk-kernels: NAME_OR_PATTERN...
# where a pattern is bash brace expansion (tpk_add_{f32,bf16}); several lines add up. build-ptx.sh checks them
# against the .entry names of the file's PTX, and generate-java.sh makes them the Java constants of KernelNames,
# so a kernel the Java side names exists, under that name, in the PTX it loads.

# tpk_declared_kernels FILE: the names, one per line, in the order written; fails on anything but names and
# {a,b} patterns (they are expanded with eval, so nothing else may reach it).
tpk_declared_kernels() {
  local words w
  words=$(sed -n 's#^// tpk-kernels:\(.*\)#\1#p' "$1")
  for w in $words; do
    if ! [[ $w =~ ^[A-Za-z_{][A-Za-z0-9_{},]*$ ]]; then
      echo "[tpk] ERROR: $1: '$w' on a '// tpk-kernels:' line is neither a kernel name nor a {a,b} pattern" >&2
      return 1
    fi
    eval "printf '%s\n' $w"
  done
}
