"""Answers and mistakes a crawl meets on a real account, each run as a person would run it.

Every attack runs ``pd-audit`` in a subprocess against the emulator served over TLS (whose
fault policy is swapped per attack) and says what went wrong, if anything:

* vanished: a service, an on-call user, a team and two schedules answer 404 (one 400, as a
  schedule upgraded to v3 does) when fetched, though the lists name them: exit 0,
  ``snapshot info`` names them by collection, ``score`` reads the snapshot;
* echoed token: a 400 whose message and a 403 whose reason repeat the ``Authorization``
  header: the crawl's error line, the manifest and ``snapshot info`` say ``[REDACTED]``
  (the token search of ``tests.reliability.run`` reads everything they wrote);
* another account: a crawl of one API base interrupted, resumed against another: exit 2;
* wrong token: exit 3, nothing left behind, the retry with the right token succeeds;
* unreachable host, unknown host: exit 3 naming the host, in seconds (the figure is kept);
* ``http://``: exit 2; teams that are neither ids nor names in ``--team``: exit 2.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from audit.emulator.faults import FaultPolicy
from audit.emulator.serve import EmulatorServer
from audit.redaction import REDACTED
from audit.snapshot import partial_path
from tests.reliability.harness import PD_AUDIT, CliRun, crawl_argv, run_cli

UNREACHABLE_SECONDS = 20.0  # the bound for an unreachable host
VANISHING = {
    "/service_dependencies/technical_services/PSVC001": "404",
    "/users/PUSR001/oncall_handoff_notification_rules": "404",
    "/teams/PTEAM01/members": "404",
    "/schedules/PSCH001": "404",
    "/schedules/PSCH002": "400",
}
VANISHED = {"service_dependencies": ["PSVC001"], "handoff_rules": ["PUSR001"], "team_members": ["PTEAM01"],
            "schedules": ["PSCH001", "PSCH002"]}


@dataclass
class AttackRun:
    """What one attack did: its CLI runs (for the token search) and what was wrong."""

    name: str
    runs: list[CliRun] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float | None = None  # how long the attacked command took, where that is the point

    def cli(self, argv: list[str] | tuple[str, ...]) -> CliRun:
        run = run_cli(list(argv))
        self.runs.append(run)
        return run

    def expect(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)


def _with(argv: list[str], option: str, value: str) -> list[str]:
    """``argv`` with ``option``'s value replaced."""
    argv = list(argv)
    argv[argv.index(option) + 1] = value
    return argv


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _one_line(run: CliRun, code: int, *needles: str) -> str | None:
    """Why ``run`` is not a clean refusal with ``code`` holding every needle (None when it is)."""
    if not run.refused_cleanly(code):
        return f"exit {run.exit_code}, stderr {run.stderr.strip()[:300]!r}"
    missing = [needle for needle in needles if needle not in run.stderr]
    return f"stderr lacks {missing}: {run.stderr.strip()[:300]!r}" if missing else None


def vanished(server: EmulatorServer, faulty: EmulatorServer, work: Path) -> AttackRun:
    attack = AttackRun("vanished objects")
    faulty.app.faults.policy = FaultPolicy(per_endpoint=VANISHING)
    out = work / "vanished"
    crawled = attack.cli(crawl_argv(faulty, out))
    attack.expect(crawled.exit_code == 0, f"crawl exit {crawled.exit_code}: {crawled.stderr.strip()[:300]}")
    if crawled.exit_code != 0:
        return attack
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    recorded = {name: sorted(r["id"] for r in info["vanished"])
                for name, info in manifest["collections"].items() if info.get("vanished")}
    attack.expect(recorded == VANISHED, f"the manifest records {recorded}")
    info = attack.cli([str(PD_AUDIT), "snapshot", "info", str(out)])
    named = all(f"{object_id} (" in info.stdout for ids in VANISHED.values() for object_id in ids)
    attack.expect(info.exit_code == 0 and named, f"snapshot info does not name them: {info.stdout[-600:]!r}")
    scored = attack.cli([str(PD_AUDIT), "score", str(out), "--format", "json"])
    attack.expect(scored.exit_code == 0, f"score exit {scored.exit_code}: {scored.stderr.strip()[:300]}")
    return attack


def echoed_token(server: EmulatorServer, faulty: EmulatorServer, work: Path) -> AttackRun:
    attack = AttackRun("token echoed in a 400 message and a 403 reason")
    faulty.app.faults.policy = FaultPolicy(per_endpoint={"/escalation_policies": "echo400"})
    argv = crawl_argv(faulty, work / "echo-400")
    failed = attack.cli([argv[0], "--debug", *argv[1:]])
    attack.expect("Traceback" in failed.stderr and failed.exit_code == 3, f"400: exit {failed.exit_code}")
    attack.expect("GET /escalation_policies: HTTP 400" in failed.stderr and REDACTED in failed.stderr,
                  f"400: the error line is {failed.error_lines[-1:]!r}")
    faulty.app.faults.policy = FaultPolicy(per_endpoint={"/standards": "echo403"})
    out = work / "echo-403"
    crawled = attack.cli(crawl_argv(faulty, out))
    attack.expect(crawled.exit_code == 0, f"403: crawl exit {crawled.exit_code}: {crawled.stderr.strip()[:300]}")
    if crawled.exit_code == 0:
        info = attack.cli([str(PD_AUDIT), "snapshot", "info", str(out)])
        attack.expect(f"Access Denied to the key in Token token={REDACTED}" in info.stdout,
                      f"403: snapshot info shows {info.stdout[:800]!r}")
    return attack


def another_account(server: EmulatorServer, faulty: EmulatorServer, work: Path) -> AttackRun:
    attack = AttackRun("resume against another API base")
    faulty.app.faults.policy = FaultPolicy(per_endpoint={"/standards": "503"})
    out = work / "resumed"
    interrupted = attack.cli([*crawl_argv(faulty, out), "--max-attempts", "1"])
    attack.expect(interrupted.exit_code == 3 and partial_path(out).is_dir(),
                  f"the interrupted crawl: exit {interrupted.exit_code}")
    mixed = attack.cli(crawl_argv(server, out, "--resume"))
    attack.expect((problem := _one_line(mixed, 2, "--resume", faulty.url)) is None, f"resume elsewhere: {problem}")
    faulty.app.faults.policy = FaultPolicy()
    resumed = attack.cli(crawl_argv(faulty, out, "--resume"))
    attack.expect(resumed.exit_code == 0 and out.is_dir(), f"resume at home: exit {resumed.exit_code}")
    return attack


def wrong_token(server: EmulatorServer, faulty: EmulatorServer, work: Path) -> AttackRun:
    attack = AttackRun("wrong token, then the right one")
    out = work / "wrong-token"
    token_file = work / "wrong-token.txt"
    token_file.write_text("u+Wr0ng/canary=pd-audit_9\n", encoding="utf-8")
    token_file.chmod(0o600)
    refused = attack.cli(crawl_argv(server, out, "--token-file", str(token_file)))
    attack.expect((problem := _one_line(refused, 3, "401", server.url.removeprefix("https://"))) is None,
                  f"wrong token: {problem}")
    attack.expect(not partial_path(out).exists(), "the wrong token left a partial snapshot")
    retried = attack.cli(crawl_argv(server, out))
    attack.expect(retried.exit_code == 0, f"the retry: exit {retried.exit_code}: {retried.stderr.strip()[:300]}")
    token_file.unlink()
    return attack


def unreachable(server: EmulatorServer, faulty: EmulatorServer, work: Path) -> AttackRun:
    attack = AttackRun("unreachable host")
    host = f"127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    run = attack.cli(_with(crawl_argv(server, work / "unreachable"), "--api-url", f"https://{host}"))
    attack.seconds = time.monotonic() - started
    attack.expect((problem := _one_line(run, 3, f"cannot reach {host}")) is None, problem or "")
    attack.expect(attack.seconds < UNREACHABLE_SECONDS, f"took {attack.seconds:.1f} s")
    attack.expect(not partial_path(work / "unreachable").exists(), "an unreachable host left a partial snapshot")
    return attack


def unknown_host(server: EmulatorServer, faulty: EmulatorServer, work: Path) -> AttackRun:
    attack = AttackRun("unknown host")
    run = attack.cli(_with(crawl_argv(server, work / "unknown"), "--api-url", "https://api.pd-audit.invalid"))
    attack.expect((problem := _one_line(run, 3, "cannot resolve the host api.pd-audit.invalid")) is None,
                  problem or "")
    return attack


def usage_mistakes(server: EmulatorServer, faulty: EmulatorServer, work: Path) -> AttackRun:
    attack = AttackRun("http:// and ids that are not ids")
    plain = attack.cli(_with(crawl_argv(server, work / "plain"), "--api-url", server.url.replace("https", "http")))
    attack.expect((problem := _one_line(plain, 2, "--api-url must be an https:// URL")) is None,
                  f"http://: {problem}")
    for teams in ("PTEAM01?x=", "../abilities", "pteam01", "PTEAM01,%2e%2e"):
        run = attack.cli(crawl_argv(server, work / "teams", "--team", teams))
        attack.expect((problem := _one_line(run, 2, "is not a PagerDuty id")) is None, f"--team {teams!r}: {problem}")
    return attack


ATTACKS: dict[str, Callable[[EmulatorServer, EmulatorServer, Path], AttackRun]] = {
    "vanished": vanished,
    "echoed-token": echoed_token,
    "another-account": another_account,
    "wrong-token": wrong_token,
    "unreachable": unreachable,
    "unknown-host": unknown_host,
    "usage": usage_mistakes,
}


def run_attacks(server: EmulatorServer, faulty: EmulatorServer, work: Path) -> list[AttackRun]:
    """Every attack in turn (``faulty``'s fault policy is swapped between them), writing under ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    return [attack(server, faulty, work) for attack in ATTACKS.values()]

