# Sourced by ./mvnw and bin/tpk (POSIX sh): tpk_find_jdk sets TPK_JDK to a JDK >= 22, looking at
# JAVA_HOME, then the JDKs Maven's toolchains know (~/.m2/toolchains.xml and the toolchains plugin's
# discovery cache), then the newest under /usr/lib/jvm and the other usual folders. Returns 1 if none.

tpk_jdk_major() {
  [ -x "$1/bin/java" ] && [ -f "$1/release" ] || return 0
  sed -n 's/^JAVA_VERSION="\(1\.\)\{0,1\}\([0-9]*\).*/\2/p' "$1/release"
}

tpk_find_jdk() {
  TPK_JDK=""
  _m=$(tpk_jdk_major "${JAVA_HOME:-/nonexistent}")
  if [ -n "$_m" ] && [ "$_m" -ge 22 ]; then TPK_JDK=$JAVA_HOME; return 0; fi
  _restore_glob=false
  case $- in *f*) set +f; _restore_glob=true ;; esac
  for _f in "$HOME/.m2/toolchains.xml" "$HOME/.m2/discovered-jdk-toolchains-cache.xml"; do
    [ -f "$_f" ] || continue
    for _h in $(sed -n 's:.*<jdkHome>[[:space:]]*\([^<]*\)[[:space:]]*</jdkHome>.*:\1:p' "$_f"); do
      _m=$(tpk_jdk_major "$_h")
      if [ -n "$_m" ] && [ "$_m" -ge 22 ]; then TPK_JDK=$_h; break 2; fi
    done
  done
  if [ -z "$TPK_JDK" ]; then
    _best=0
    for _h in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.jdks/* "$HOME"/.sdkman/candidates/java/*; do
      _m=$(tpk_jdk_major "$_h")
      if [ -n "$_m" ] && [ "$_m" -ge 22 ] && [ "$_m" -gt "$_best" ]; then _best=$_m; TPK_JDK=$_h; fi
    done
  fi
  if $_restore_glob; then set -f; fi
  [ -n "$TPK_JDK" ]
}
