#!/bin/sh
# Writes the expected output of each expr_*.star corpus script by running
# it under CPython 3.11: the scripts are Python as well as starflow.
cd "$(dirname "$0")" || exit 1
for f in expr_*.star; do
	python3 "$f" > "${f%.star}.out" || echo "failed: $f" >&2
done
