#!/usr/bin/env bash
# expect_exit.sh STATUS PATTERN COMMAND...: runs COMMAND and passes when it exits with STATUS and
# its output (stdout and stderr) matches the extended regular expression PATTERN.
set -u
status=$1 pattern=$2
shift 2
output=$("$@" 2>&1)
actual=$?
printf '%s\n' "$output"
if [ "$actual" -ne "$status" ]; then
  echo "expect_exit: exit status $actual, expected $status" >&2
  exit 1
fi
if ! printf '%s\n' "$output" | grep -Eq -- "$pattern"; then
  echo "expect_exit: output does not match '$pattern'" >&2
  exit 1
fi
