#!/usr/bin/env python3
"""Summary of a CTest run from its JUnit file (ctest --output-junit).

Prints one line per failed or skipped test and a closing line
`tests: N passed, N failed, N skipped`. A skipped test counts as a failure
unless its output says that qemu cannot run here (the one environment a
guest test may legitimately lack). Exit 0 if nothing failed, 1 otherwise,
2 if the file is missing or not CTest JUnit output.
Usage: tools/test_summary.py build/ctest-junit.xml
"""
import sys
import xml.etree.ElementTree as ET

# The guest tests print this (and exit 77) only when qemu cannot start a TCG guest.
ALLOWED_SKIP = "qemu cannot run here"


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        root = ET.parse(argv[1]).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"tools/test_summary: cannot read {argv[1]}: {e}", file=sys.stderr)
        return 2
    cases = root.iter("testcase")
    passed, failed, skipped = 0, [], []
    n = 0
    for case in cases:
        n += 1
        name = case.get("name", "?")
        out = "".join(e.text or "" for e in case.iter("system-out"))
        if case.find("failure") is not None or case.get("status") == "fail":
            failed.append((name, "failed"))
        elif case.find("skipped") is not None or case.get("status") in ("notrun", "disabled"):
            if ALLOWED_SKIP in out:
                skipped.append(name)
            else:
                reason = case.find("skipped")
                msg = reason.get("message", "") if reason is not None else case.get("status", "")
                failed.append((name, f"skipped without '{ALLOWED_SKIP}' ({msg or 'no reason'})"))
        else:
            passed += 1
    if n == 0:
        print(f"tools/test_summary: {argv[1]} lists no test", file=sys.stderr)
        return 1
    for name in skipped:
        print(f"SKIPPED {name}: {ALLOWED_SKIP}")
    for name, why in failed:
        print(f"FAILED  {name}: {why}")
    print(f"tests: {passed} passed, {len(failed)} failed, {len(skipped)} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
