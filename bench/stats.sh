# Sourced by the bench scripts: small helpers over "key=value" result lines.

# This machine's processor: "NAME (family F, model M)", from /proc/cpuinfo.
processor() {
  echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') (family $(grep -m1 'cpu family' \
    /proc/cpuinfo | cut -d: -f2 | tr -d ' '), model $(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2 | tr -d ' '))"
}
# The value of key=... in the lines on stdin, one per line.
field() { grep -o " $1=[^ ]*" | cut -d= -f2 || true; }
# The median of the numbers on stdin, one per line ("-" when there are none).
median() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "-"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# The same, printed with 3 decimals.
median3() { median | awk '{ if ($1 == "-") print; else printf "%.3f\n", $1 }'; }
# a / b with 3 decimals ("-" when b is "-" or 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == "-" || b == 0) print "-"; else printf "%.3f", a / b }'; }
