#!/usr/bin/env bash
# Run tests/core on other CPython versions: Pyodide (CPython compiled to WebAssembly, an npm
# package) under Node.js. 0.27.x is Python 3.12, 0.29.x is 3.13, 314.0.x is 3.14.
#
#   .ci/pyodide/run.sh VERSION... [-- PYTEST_ARGS...]     (default PYTEST_ARGS: tests/core)
#
# Needs node >= 18 with npm, python3 >= 3.11 with pip, unzip, and the npm and Python
# package registries. The clone is only read: nothing is written into it.
# Prints each version's pytest output (run at once, their logs are shown one after another),
# then one line per version: "PASS|FAIL  pyodide V (Python X.Y.Z): N passed, ... in S s".
# Exits 1 if any version failed.
#
# Environment:
#   MICROTAPE_PYODIDE_CACHE  where the npm installs, wheels and logs go (default: a new
#                            temporary folder, removed at the end, so each run starts
#                            from nothing, as CI does)
#   MICROTAPE_PYODIDE_JOBS   how many versions run at once (default: all of them; on two
#                            cores three at once finish sooner than two and then one)
#   MICROTAPE_EXAMPLES_SCALE passed on to the suite (tests/workload.py); CI sets it
#   NODE_STACK_KB            node's --stack-size (default 4000): freeing a long chain of
#                            objects (tests/core/test_nn.py nests 5,000 modules) recurses
#                            deeper than Node's default stack (about 1 MB) allows under
#                            Pyodide 0.29 and 314, and kills the interpreter
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
clone=$(cd "$here/../.." && pwd)
versions=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do versions+=("$1"); shift; done
[ $# -gt 0 ] && shift
pytest_args=("$@")
[ ${#pytest_args[@]} -gt 0 ] || pytest_args=(tests/core)
[ ${#versions[@]} -gt 0 ] || { sed -n '2,11p' "$0" >&2; exit 2; }

if [ -n "${MICROTAPE_PYODIDE_CACHE:-}" ]; then
    cache=$MICROTAPE_PYODIDE_CACHE
    mkdir -p "$cache"
else
    cache=$(mktemp -d "${TMPDIR:-/tmp}/microtape-pyodide.XXXXXX")
    trap 'rm -rf "$cache"' EXIT
fi
jobs=${MICROTAPE_PYODIDE_JOBS:-${#versions[@]}}
log() { printf '== %s\n' "$*"; }
quietly() {  # run a command, showing its output only if it fails
    local out
    out=$(mktemp "$cache/out.XXXXXX")
    if ! "$@" >"$out" 2>&1; then
        cat "$out" >&2
        echo "failed: $*" >&2
        return 1
    fi
    rm -f "$out"
}

# 1. Each Pyodide, from npm.
started=$SECONDS
for version in "${versions[@]}"; do
    if [ ! -f "$cache/pyodide-$version/node_modules/pyodide/pyodide.mjs" ]; then
        mkdir -p "$cache/pyodide-$version"
        (cd "$cache/pyodide-$version" &&
            quietly timeout 600 npm install --no-audit --no-fund --no-save "pyodide@$version")
    fi
done
log "npm install pyodide ${versions[*]}: $((SECONDS - started)) s"

# 2. The test dependencies: pure-Python wheels, checked against each Python version.
started=$SECONDS
declare -A python_of
for version in "${versions[@]}"; do
    python_of[$version]=$(node -p \
        "require('$cache/pyodide-$version/node_modules/pyodide/pyodide-lock.json').info.python")
    minor=$(echo "${python_of[$version]}" | cut -d. -f1,2)
    quietly timeout 600 python3 -m pip download --disable-pip-version-check --no-deps \
        --only-binary=:all: --python-version "$minor" --implementation py --abi none \
        --platform any -d "$cache/wheels" -r "$here/requirements.txt"
done

# 3. microtape's and the example plugins' metadata (their entry points), from wheels built
#    from copies of the clone (a build writes into the folder it builds); the code itself is
#    imported from the clone, as an editable install does.
rm -rf "$cache/src" "$cache/own"
mkdir -p "$cache/src"
git -C "$clone" ls-files -z | (cd "$clone" && xargs -0 cp --parents -t "$cache/src")
quietly timeout 600 python3 -m pip wheel --disable-pip-version-check --no-deps \
    -w "$cache/own" "$cache/src" "$cache/src"/plugins/*/
log "pip download and build the test wheels: $((SECONDS - started)) s"

# 4. One site-packages per version: the wheels unpacked, the metadata, and a .pth file that
#    puts the clone's source folders on sys.path.
for version in "${versions[@]}"; do
    site=$cache/site-$version
    rm -rf "$site"
    mkdir -p "$site"
    while read -r requirement; do
        name=$(echo "${requirement%%==*}" | tr '[:upper:]-' '[:lower:]_')
        wheel=$(find "$cache/wheels" -maxdepth 1 -iname "${name}-${requirement##*==}-*.whl")
        unzip -q -o "$wheel" -d "$site"
    done < <(grep -v '^#' "$here/requirements.txt" | grep .)
    for wheel in "$cache"/own/*.whl; do unzip -q -o "$wheel" '*.dist-info/*' -d "$site"; done
    {
        echo "$clone"
        for plugin in "$clone"/plugins/*/src; do echo "$plugin"; done
    } >"$site/_microtape_clone.pth"
done

# 5. The suites, up to $jobs at once, each into its own log.
node_options=()
stack_kb=${NODE_STACK_KB-4000}
if [ -n "$stack_kb" ]; then
    # V8 must stay well inside the OS stack, or it crashes instead of raising.
    os_stack_kb=$(ulimit -s)
    if [ "$os_stack_kb" != unlimited ] && [ "$os_stack_kb" -lt $((stack_kb * 3 / 2)) ]; then
        ulimit -s $((stack_kb * 3 / 2)) 2>/dev/null || {
            log "ulimit -s is $os_stack_kb KB and cannot grow: Node keeps its default stack"
            stack_kb=
        }
    fi
    [ -z "$stack_kb" ] || node_options=(--stack-size="$stack_kb")
fi
run_one() {
    local version=$1 code=0
    timeout 1800 node ${node_options[@]+"${node_options[@]}"} "$here/run.mjs" \
        "$cache/pyodide-$version" "$cache/site-$version" "$clone" "${pytest_args[@]}" \
        >"$cache/$version.log" 2>&1 || code=$?
    echo "$code" >"$cache/$version.exit"
}
log "pytest ${pytest_args[*]} on pyodide ${versions[*]} ($jobs at once)"
started=$SECONDS
running=0
for version in "${versions[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    run_one "$version" &
    running=$((running + 1))
done
wait
log "pytest on pyodide: $((SECONDS - started)) s"

failed=0
lines=()
for version in "${versions[@]}"; do
    log "pyodide $version (Python ${python_of[$version]}): pytest ${pytest_args[*]}"
    grep -v '^@@RESULT ' "$cache/$version.log" || true
    result=$(grep '^@@RESULT ' "$cache/$version.log" | cut -c10-) || result='{}'
    exit_code=$(cat "$cache/$version.exit" 2>/dev/null || echo 3)
    line=$(python3 - "$version" "${python_of[$version]}" "$exit_code" "$result" <<'EOF'
import json
import sys

version, python, exit_code, result = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
counts = json.loads(result)
verdict = "PASS" if exit_code == 0 and counts else "FAIL"
if not counts:
    summary = f"no result (exit status {exit_code}: crashed, or timed out if 124)"
else:
    summary = ", ".join(
        f"{counts.get(key, 0)} {key}" for key in ("passed", "failed", "skipped", "error")
    ) + f" in {counts['seconds']} s"
print(f"{verdict}  pyodide {version} (Python {python}): {summary}")
EOF
)
    lines+=("$line")
    [ "${line%% *}" = PASS ] || failed=1
done
log "tests/core on other Python versions, through Pyodide:"
printf '%s\n' "${lines[@]}"
exit "$failed"
