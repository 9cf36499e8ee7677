#!/usr/bin/env bash
# Import boundaries (ARCHITECTURE.md §1): dfk and memo know no Starlark;
# providers import nothing of starflow above them.
set -euo pipefail
fail=0
check() { # package, forbidden import pattern, why
  local pkgs bad
  pkgs=$(go list "./$1/..." 2>/dev/null) || return 0
  for p in $pkgs; do
    bad=$(go list -f '{{join .Imports "\n"}}' "$p" | grep -E "$2" || true)
    if [ -n "$bad" ]; then echo "import boundary: $p imports $bad ($3)"; fail=1; fi
  done
}
check dfk 'go\.starlark\.net' "the kernel knows no Starlark"
check memo 'go\.starlark\.net' "the memo store knows no Starlark"
check providers 'starflow/(builtins|dfk|executors|interp|memo|monitoring)' "providers sit below everything"
check monitoring/procstat 'starflow-hpc/starflow/' "procstat reads /proc for executors and monitoring alike, so it sits below both"
exit $fail
