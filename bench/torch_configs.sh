# Sourced by the bench scripts: the configurations PyTorch is measured in, so that
# tapegrad is compared with PyTorch at its best rather than at our thread count.
# Debian's PyTorch can be slower on 2 threads than on 1 (its OpenMP workers spin
# while OpenBLAS's threads work), so every thread count from 1 to the limit runs
# with libgomp's default wait policy and with OMP_WAIT_POLICY=passive.

# The configurations for at most $1 threads, one per line: "t<threads>-<default|passive>".
torch_configs() {
  local t
  for ((t = 1; t <= $1; t++)); do echo "t$t-default"; echo "t$t-passive"; done
}
# The thread count of a configuration.
config_threads() { local c=${1#t}; echo "${c%%-*}"; }
# `env` arguments that run PyTorch in a configuration.
config_env() {
  local t; t=$(config_threads "$1")
  if [[ "$1" == *-passive ]]; then
    echo "OMP_NUM_THREADS=$t OMP_WAIT_POLICY=passive"
  else
    echo "OMP_NUM_THREADS=$t"
  fi
}
# The configuration whose median of key $2 is highest among the result lines on
# stdin that carry config=...; $1 restricts to configurations matching a glob ('*': all).
best_config() {
  local pattern=$1 key=$2 lines c m best="-" best_value=0
  lines=$(cat)
  for c in $(echo "$lines" | grep -o ' config=[^ ]*' | cut -d= -f2 | sort -u); do
    [[ "$c" == $pattern ]] || continue
    m=$(echo "$lines" | grep " config=$c\$" | field "$key" | median)
    if [[ "$m" != - ]] && awk -v a="$m" -v b="$best_value" 'BEGIN { exit !(a > b) }'; then
      best=$c best_value=$m
    fi
  done
  echo "$best"
}
