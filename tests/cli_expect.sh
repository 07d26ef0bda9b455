# Sourced by the CLI test scripts: runs tritbench ($tb_bin, through $TB_CLI_WRAPPER if set, e.g.
# qemu-aarch64 for the cross build) and checks exit status and output.
# With TB_FAIL_FAST set (tests/mutants.sh sets it), the first failed check ends the script
# (exit 1): a mutant is caught by one failure, and the checks after it only cost time.
fails=0
out=$(mktemp)

fail_fast() { [ -z "${TB_FAIL_FAST:-}" ] || exit 1; }

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
    fail_fast
  else
    echo "ok: tritbench $* -> $got"
  fi
}

# json_check FILE WHAT EXPR: FILE parses as JSON and the Python expression EXPR (over the
# document d) is true. python3 comes with .ci/setup; without it the check fails, never passes.
json_check() {
  file=$1 what=$2 expr=$3
  if ! command -v python3 >/dev/null; then
    echo "FAIL: $what: python3 is needed to read the JSON (bash .ci/setup installs it)"
    fails=$((fails + 1))
  elif python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($expr) else 1)" "$file"; then
    echo "ok: $what"
  else
    echo "FAIL: $what: $expr does not hold for $file:"
    head -c 600 "$file" | sed 's/^/    /'
    fails=$((fails + 1))
    fail_fast
  fi
}
