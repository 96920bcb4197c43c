# Sourced by the bench scripts: small helpers over "key=value" result lines.

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
