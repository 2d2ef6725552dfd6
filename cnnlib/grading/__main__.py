"""``python -m cnnlib.grading [--json] [--require-done] [EXERCISE ...]``: grade in a fresh process.

``cnnlib.check``, ``cnnlib.grade`` and ``cnnlib.progress`` run this from a
notebook, so that grading happens in a process that has never imported a
learner file (a notebook's kernel has), and the learner's code in a sandbox
below it. Without exercises it grades all of them and prints the table.
``--require-done`` exits with 1 unless every one is done (the GitHub Classroom
workflow of ``cnnlib publish classroom`` runs it once per exercise).
"""
import argparse
import dataclasses
import json
import sys

from . import grade_all, report, status_table

parser = argparse.ArgumentParser(prog="python -m cnnlib.grading")
parser.add_argument("exercises", nargs="*", help="ids or names (default: all, as a table)")
parser.add_argument("--json", action="store_true", help="print the results as JSON")
parser.add_argument("--require-done", action="store_true", help="exit with 1 unless every one is done")
args = parser.parse_args()
results = grade_all(args.exercises)
if args.json:
    print(json.dumps([dataclasses.asdict(r) for r in results.values()]))
elif args.exercises:
    print("\n".join(report(r) for r in results.values()))
else:
    print(status_table(results))
sys.exit(int(args.require_done and not all(r.done for r in results.values())))
