# Sourced by the bench scripts: median reads numbers, one per line, and prints
# their median ("-" when there are none).
median() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "-"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# The same, printed with 3 decimals.
median3() { median | awk '{ if ($1 == "-") print; else printf "%.3f\n", $1 }'; }
