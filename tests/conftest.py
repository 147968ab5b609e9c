"""Test-suite wide hooks: a skipped physics check is reported loudly, never silently."""

from __future__ import annotations


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = terminalreporter.stats.get("skipped", [])
    physics = [r for r in skipped if "tests/physics/" in r.nodeid.replace("\\", "/")
               or "test_library_data" in r.nodeid or "test_material" in r.nodeid]
    if not physics:
        return
    terminalreporter.section("physics checks skipped", sep="!", yellow=True, bold=True)
    for r in physics:
        reason = r.longrepr[2] if isinstance(r.longrepr, tuple) else str(r.longrepr)
        terminalreporter.write_line(f"SKIPPED {r.nodeid}: {reason}", yellow=True)
    terminalreporter.write_line(f"{len(physics)} physics check(s) did not run: install what they name to run them.",
                                yellow=True, bold=True)
