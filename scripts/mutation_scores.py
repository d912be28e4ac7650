"""The share of mutmut's changes caught, per module and per function, against the floors of
``make mutation``: 95 % in the money modules, 90 % in the others.

Reads what ``mutmut run`` left in ``mutants/`` (one ``.meta`` file per module). A change is
caught when a test failed (or hung past the time limit, or failed type checking); one that no
test covers counts as not caught. The score is of the changes run; exits 1 when a module is
below its floor, some of its changes were not run, or a module meant to be changed was not.
"""

import json
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

#: Modules that hold money rules; the others hold rules on who may do what, and numbering.
MONEY = {"applications/services/money.py", "grants/services.py", "grants/settlement.py"}
FLOOR_MONEY, FLOOR_OTHER = 95.0, 90.0
CAUGHT = {1, 3, 36, 37, 24, -24, 152, 255}
#: Caught by a time limit rather than a failing test: counted as caught (a change can make a
#: loop endless), and listed, because a limit too tight would catch a change that no test does.
TIMED_OUT = {36, 24, -24, 152, 255}
SKIPPED = {34}


def function_of(mutant: str) -> str:
    # applications.services.money.x_award_set__mutmut_12 -> award_set
    name = mutant.rsplit(".", 1)[-1]
    name = name.split("__mutmut_")[0]
    return name.removeprefix("x_").replace("ǁ", ".")


def main() -> int:
    config = tomllib.loads(Path("pyproject.toml").read_text())["tool"]["mutmut"]
    wanted = config["only_mutate"]
    failed = False
    print(f"{'module':45} {'caught':>7} {'changes':>8} {'score':>7} floor")
    for module in wanted:
        meta = Path("mutants") / f"{module}.meta"
        if not meta.exists():
            print(f"{module:45} not changed: no mutmut data")
            failed = True
            continue
        results = json.loads(meta.read_text())["exit_code_by_key"]
        # A change never run (a run narrowed by MUTMUT_ARGS, or interrupted) is left out of
        # the score, and the module is reported as not fully run.
        counted = {k: v for k, v in results.items() if v not in SKIPPED and v is not None}
        unchecked = [k for k, v in results.items() if v is None]
        caught = sum(1 for v in counted.values() if v in CAUGHT)
        total = len(counted)
        score = 100.0 * caught / total if total else 0.0
        floor = FLOOR_MONEY if module in MONEY else FLOOR_OTHER
        verdict = "ok" if score >= floor else "BELOW"
        failed |= verdict != "ok"
        if unchecked:
            verdict += f", {len(unchecked)} not run"
            failed = True
        timed_out = sum(1 for v in counted.values() if v in TIMED_OUT)
        if timed_out:
            verdict += f" ({timed_out} caught by the time limit)"
        print(f"{module:45} {caught:7} {total:8} {score:6.1f}% {floor:.0f}% {verdict}")
        by_function = defaultdict(Counter)
        for key, code in results.items():
            if code in SKIPPED:
                continue
            outcome = "unrun" if code is None else "caught" if code in CAUGHT else "missed"
            by_function[function_of(key)][outcome] += 1
            if code in TIMED_OUT:
                by_function[function_of(key)]["timed_out"] += 1
        for function, counts in sorted(by_function.items()):
            if counts["caught"] + counts["missed"] == 0:
                continue
            notes = [f"{counts['missed']} not caught"] * bool(counts["missed"])
            notes += [f"{counts['unrun']} not run"] * bool(counts["unrun"])
            notes += [f"{counts['timed_out']} by the time limit"] * bool(counts["timed_out"])
            note = "  " + ", ".join(notes) if notes else ""
            ran = counts["caught"] + counts["missed"]
            print(f"    {function:41} {counts['caught']:7} {ran:8}{note}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
