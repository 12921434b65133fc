"""A snapshot's manifest as text (`pd-audit snapshot info`, and the crawl's closing line)."""

from __future__ import annotations

from typing import Any

VANISHED_SHOWN = 10  # objects named per collection; the JSON manifest has them all


def _vanished_lines(collections: dict[str, Any]) -> list[str]:
    """The objects deleted while the crawl ran (a list named them, their own request answered 404)."""
    lines = []
    for name, info in sorted(collections.items()):
        records = info.get("vanished") or []
        if not isinstance(records, list) or not records:
            continue
        named = ", ".join(f"{record.get('id')} ({record.get('endpoint')}, HTTP {record.get('http_status')})"
                          for record in records[:VANISHED_SHOWN] if isinstance(record, dict))
        more = f" and {len(records) - VANISHED_SHOWN} more" if len(records) > VANISHED_SHOWN else ""
        lines.append(f"  {name:<22} {len(records):>8,} vanished during the crawl: {named}{more}")
    if lines:
        lines.insert(0, "vanished (deleted after a list named them; left out of what needs them):")
    return lines


def render(m: dict[str, Any]) -> str:
    """The manifest as `pd-audit snapshot info` prints it."""
    from audit.snapshot import CollectionStatus

    window = m["window"]
    lines = [
        f"snapshot format {m['format_version']} (pd-audit {m.get('tool_version', '?')})",
        f"api:       {m.get('api_base', '?')}" + (f"  (subdomain {m['subdomain']})" if m.get("subdomain") else ""),
        f"crawled:   {m.get('crawl_started_at', '?')} .. {m.get('crawl_finished_at', '?')}",
        f"window:    {window['since']} .. {window['until']} ({window['days']} days)",
    ]
    if m.get("scope"):
        lines.append(f"scope:     teams {', '.join(m['scope']['team_ids'])}")
    lines.append("collections:")
    for name, info in sorted(m["collections"].items()):
        if info["status"] == CollectionStatus.COMPLETE:
            lines.append(f"  {name:<22} {info['count']:>8,}")
        elif info["status"] == CollectionStatus.INCOMPLETE:
            lines.append(f"  {name:<22} {info['count']:>8,}  incomplete: {info.get('missing', '?')} missing: "
                         f"{info.get('reason')}")
        else:
            lines.append(f"  {name:<22} {'-':>8}  unavailable (HTTP {info.get('http_status')}): {info.get('reason')}")
    lines += _vanished_lines(m["collections"])
    requests = m.get("requests")
    if requests:
        lines.append(requests_summary(requests))
        for endpoint, count in requests["by_endpoint"].items():
            lines.append(f"  {endpoint:<52} {count:>8,}")
    return "\n".join(lines)


def requests_summary(requests: dict[str, Any]) -> str:
    """One line: requests made against the lower bound, 429s and retries."""
    bound = requests["lower_bound"]["total"]
    ratio = requests["total"] / bound if bound else 0
    return (
        f"requests: {requests['total']:,} (lower bound {bound:,}, {ratio:.2f}x); "
        f"429s: {requests['throttled']:,}; retries: {requests['retries']:,}"
    )
