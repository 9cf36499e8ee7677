#!/bin/sh
# Writes NAME.expected for the corpus scripts named as arguments by running
# each under CPython 3.11 with the FAKE parsl in pyshim/ (no Parsl needed),
# in a scratch copy of this folder, with the arguments in NAME.args if any.
# Only for scripts whose output depends on nothing Parsl-specific beyond
# futures; the other .expected files (app_timeout, join_app_use) are
# written by hand.
set -e
here=$(cd "$(dirname "$0")" && pwd)
for f in "$@"; do
	f=$(basename "$f")
	tmp=$(mktemp -d)
	cp -r "$here"/. "$tmp"
	args=""
	[ -f "$here/${f%.py}.args" ] && args=$(cat "$here/${f%.py}.args")
	# shellcheck disable=SC2086 # args are split on purpose
	(cd "$tmp" && PYTHONPATH="$here/pyshim" python3 "$f" $args) >"$here/${f%.py}.expected"
	rm -rf "$tmp"
done
