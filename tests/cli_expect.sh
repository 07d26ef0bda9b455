# Sourced by the CLI test scripts: runs tritbench ($tb_bin, through $TB_CLI_WRAPPER if set, e.g.
# qemu-aarch64 for the cross build) and checks exit status and output.
fails=0
out=$(mktemp)

tb() { ${TB_CLI_WRAPPER:-} "$tb_bin" "$@"; }

# expect CODE PATTERN ARGS...: exit status CODE and PATTERN somewhere in stdout+stderr.
expect() {
  code=$1 pattern=$2
  shift 2
  tb "$@" >"$out" 2>&1
  got=$?
  if [ "$got" -ne "$code" ] || ! grep -q -- "$pattern" "$out"; then
    echo "FAIL: tritbench $* -> exit $got (want $code), output:"
    sed 's/^/    /' "$out" | head -5
    echo "    (wanted to see: $pattern)"
    fails=$((fails + 1))
  else
    echo "ok: tritbench $* -> $got"
  fi
}
