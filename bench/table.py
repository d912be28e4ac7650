"""The figures as a table: each case beside its baseline and their ratio, its size in KB and
the most fields one of its forms posts where that matters, and the target it is held to
(issue 20's "Done when", and the earlier ones) with whether it holds in this run."""

from . import data

HEADER = ("figure", "case", "baseline", "ratio", "KB", "fields", "target")


def holds(condition: bool, target: str) -> str:
    return f"{target}: {'holds' if condition else 'DOES NOT HOLD'}"


def table(figures: dict[str, float]) -> str:
    rows = [HEADER]
    get = figures.get

    def number(value) -> str:
        return "" if value is None else f"{value:g}"

    def add(label, case, baseline="", ratio="", kb="", fields="", target=""):
        rows.append((label, case, baseline, ratio, kb, fields, target))

    def pair(label, prefix, suffix="", target="", unit="ms"):
        """One case beside its baseline; a failed request (a worker killed at its timeout,
        a 5xx) shows as such."""
        if get(f"{prefix}_failed{suffix}"):
            why = "worker timeout" if get(f"{prefix}_timeout{suffix}") else "failed"
            add(label, why, number(get(f"{prefix}_baseline_ms{suffix}")), "", "", "", target)
            return
        case = get(f"{prefix}_{unit}{suffix}")
        if case is None:
            return
        ratio = get(f"{prefix}_ratio{suffix}")
        add(
            label,
            number(case),
            number(get(f"{prefix}_baseline_{unit}{suffix}")),
            "" if ratio is None else f"{ratio:.2f}",
            number(get(f"{prefix}_kb{suffix}")),
            number(get(f"{prefix}_fields{suffix}")),
            target,
        )

    def verdict(condition, target):
        return "" if condition is None else holds(condition, target)

    def known(*names):
        return all(name in figures for name in names)

    largest = max(data.SIZES)

    # The coordinators' lists and the dashboard (in-process, the test client).
    for size in data.SIZES:
        name = f"changelist_ratio_{size}"
        target = verdict(get(name) <= 2 if size == largest and known(name) else None, "ratio <= 2")
        pair(f"changelist {size} (ms)", "changelist", f"_{size}", target)
    for size in data.SIZES:
        name = f"portfolio_ratio_{size}"
        target = verdict(get(name) <= 3 if size == largest and known(name) else None, "ratio <= 3")
        pair(f"portfolio {size} (ms)", "portfolio", f"_{size}", target)
    pair(
        "dashboard (ms)",
        "dashboard",
        target=verdict(
            get("dashboard_ratio") <= 2 if known("dashboard_ratio") else None, "ratio <= 2"
        ),
    )
    pair("floor: login + layout (ms)", "dashboard_floor")

    # The pages of a whole call, through gunicorn, against the bare list of the call of 100.
    for page in ("allocation", "decision"):
        for size in data.SIZES:
            targets = []
            fields = get(f"{page}_fields_{size}")
            if fields is not None:
                targets.append(holds(fields < 1000, "fields < 1000"))
            if size == largest and known(f"{page}_ratio_{size}"):
                targets.append(holds(get(f"{page}_ratio_{size}") <= 3, "ratio <= 3"))
                targets.append(holds(get(f"{page}_kb_{size}") <= 300, "<= 300 KB"))
            if get(f"{page}_failed_{size}") and size == largest:
                targets.append("ratio <= 3: DOES NOT HOLD")
            pair(f"{page} screen {size} (ms)", page, f"_{size}", "; ".join(targets))
    for size in data.DECIDED_SIZES:
        targets = []
        if size == max(data.DECIDED_SIZES) and known(f"results_ratio_{size}"):
            targets.append(holds(get(f"results_ratio_{size}") <= 2, "ratio <= 2"))
            targets.append(holds(get(f"results_kb_{size}") <= 300, "<= 300 KB"))
        pair(f"public results {size} (ms)", "results", f"_{size}", "; ".join(targets))
    for size in data.DECIDED_SIZES:
        name = f"application_ratio_{size}"
        target = verdict(get(name) <= 1 if known(name) else None, "ratio <= 1")
        pair(f"application page {size} (ms)", "application", f"_{size}", target)

    # The exports: CSV against COPY, XLSX against openpyxl write-only; the worker's memory.
    for export_format, limit, against in (("csv", 5, "COPY"), ("xlsx", 1.2, "write-only")):
        for size in data.SIZES:
            target = ""
            if size == largest:
                name = f"{export_format}_ratio_{size}"
                failed = get(f"{export_format}_failed_{size}")
                target = verdict(
                    False if failed else (get(name) <= limit if known(name) else None),
                    f"ratio <= {limit:g} ({against})",
                )
            pair(f"{export_format.upper()} export {size} (ms)", export_format, f"_{size}", target)
        if known(f"{export_format}_rss_before_mb"):
            after = get(f"{export_format}_rss_after_mb")
            ratio = get(f"{export_format}_rss_ratio")
            add(
                f"{export_format.upper()} worker RSS after | before (MB)",
                number(after) if after is not None else "killed",
                number(get(f"{export_format}_rss_before_mb")),
                "" if ratio is None else f"{ratio:.2f}",
                "",
                "",
                verdict(ratio <= 1.5 if ratio is not None else False, "ratio <= 1.5"),
            )
            add(
                f"{export_format.upper()} worker peak RSS (MB)",
                number(get(f"{export_format}_rss_peak_mb")),
                "",
                "",
                "",
                "",
                f"HWM {number(get(f'{export_format}_hwm_mb'))}"
                if known(f"{export_format}_hwm_mb")
                else "",
            )

    # The deadline rush.
    if known("rush_flows_per_s"):
        add(
            f"rush: flows/s ({number(get('rush_users'))} users, 3 workers)",
            number(get("rush_flows_per_s")),
            number(get("rush_baseline_flows_per_s")),
            f"{get('rush_rate_ratio'):.2f}",
            "",
            "",
            holds(get("rush_rate_ratio") >= 0.25, "ratio >= 0.25"),
        )
        p99_ratio = get("rush_p99_ratio")
        add(
            "rush: submit p99 (ms)",
            number(get("rush_submit_p99_ms")),
            number(get("rush_baseline_submit_p99_ms")),
            "" if p99_ratio is None else f"{p99_ratio:.2f}",
            "",
            "",
            verdict(p99_ratio <= 4 if p99_ratio is not None else False, "ratio <= 4"),
        )
        add(
            "rush: submitted | drafts",
            number(get("rush_submitted")),
            number(get("rush_drafts")),
            "",
            "",
            "",
            holds(
                bool(get("rush_kept_once"))
                and bool(get("rush_references_ok"))
                and not get("rush_failed"),
                "each kept once, references without gaps",
            ),
        )

    # The letters.
    pair(
        "letter issued (ms)",
        "letter",
        target=verdict(get("letter_ratio") <= 2 if known("letter_ratio") else None, "ratio <= 2"),
    )
    pair("letter rendered (ms)", "letter_render")
    pair("floor: its words, plain (ms)", "letter_words")
    if known("letter_office_ms"):
        add(
            "letter rendered | warm LibreOffice (ms)",
            number(get("letter_render_ms")),
            number(get("letter_office_ms")),
            f"{get('letter_office_ratio'):.2f}",
        )
    if known("letters_per_s_bulk_1"):
        add(
            "bulk letters/s, medians (2 workers | 1)",
            number(get("letters_per_s_bulk_2")),
            number(get("letters_per_s_bulk_1")),
            f"{get('bulk_speedup_2'):.2f}",
        )
    if known("http_rps_ratio"):
        add(
            "http requests/s (dashboard | bare)",
            number(get("http_rps_dashboard")),
            number(get("http_rps_baseline")),
            f"{get('http_rps_ratio'):.2f}",
        )
    return render(rows)


def render(rows) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = []
    for number, row in enumerate(rows):
        cells = [
            row[0].ljust(widths[0]),
            *(cell.rjust(width) for cell, width in zip(row[1:6], widths[1:6], strict=True)),
            row[6],
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)
