#!/bin/sh
# One TAP point for an example program: it must exit 0 (with --expect, that
# means it reached the accuracy). usage: run_example.sh NAME PROGRAM ARGS...
name=$1
shift
echo "TAP version 14"
if out=$("$@" 2>&1); then
    echo "$out" | sed 's/^/# /'
    echo "ok 1 - $name: $(echo "$out" | tail -n 1)"
else
    status=$?
    echo "$out" | sed 's/^/# /'
    echo "not ok 1 - $name exited with status $status"
fi
echo "1..1"
