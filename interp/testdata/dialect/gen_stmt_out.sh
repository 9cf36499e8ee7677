#!/bin/sh
# Writes the expected output of each stmt_*.star corpus script by running
# it under CPython 3.11 (the scripts are Python as well as starflow), with
# a scratch folder as argv[1]. stmt_parsl.star needs Parsl: its .out is
# written by hand.
cd "$(dirname "$0")" || exit 1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
for f in stmt_*.star; do
	case "$f" in stmt_parsl*) continue ;; esac
	python3 "$f" "$tmp" > "${f%.star}.out" || echo "failed: $f" >&2
done
