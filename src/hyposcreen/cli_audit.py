"""`hyposcreen audit` on the command line: its arguments made settings, and what it prints."""

from __future__ import annotations

import argparse
import sys

from hyposcreen.cli_run import EXIT_OK
from hyposcreen.cli_stdout import say
from hyposcreen.errors import EXIT_SCREENED_WITH_WARNINGS


def audit_command(args: argparse.Namespace) -> int:
    """Run `hyposcreen audit`: settings from the arguments, progress and warnings on stderr,
    the report's path on stdout; exit 4 when the report carries warnings."""
    from hyposcreen.audit import AuditSettings, run_audit
    from hyposcreen.config import load_mapping, parse_window
    from hyposcreen.validate.warm_up import warm_up_in_background

    timezone = load_mapping(args.mapping).timezone
    window = parse_window(args.start, args.end, timezone, ("--start", "--end"), "audit")
    settings = AuditSettings(
        input_dir=args.input,
        out_dir=args.out,
        start=window.start,
        end=window.end,
        source=args.source,
        mapping_path=args.mapping,
        profile=args.profile,
        rules_dir=args.rules,
        glucose_factor=args.glucose_factor,
        min_cell_size=args.min_cell_size,
        key_file=args.key_file,
    )
    told = f"{window.label()} {timezone}"  # the site's wall times, named
    print(f"hyposcreen: auditing {settings.input_dir} for {told}", file=sys.stderr)
    warm_up_in_background()  # its contracts may go to a worker beside the months' screen
    summary = run_audit(settings)
    print(
        f"hyposcreen: {len(summary.manifest['periods'])} month(s) audited; cells below "
        f"{summary.manifest['min_cell_size']} suppressed",
        file=sys.stderr,
    )
    say(f"Audit report: {summary.out_dir / 'audit.html'}")
    for warning in summary.manifest["warnings"]:
        print(f"hyposcreen: warning: {warning['message']}", file=sys.stderr)
    return EXIT_SCREENED_WITH_WARNINGS if summary.manifest["warnings"] else EXIT_OK
