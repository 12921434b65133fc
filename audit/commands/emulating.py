"""``pd-audit emulator``: serve a PagerDuty-compatible API from an account file, for trying and testing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from audit.commands.console import echo
from audit.commands.options import (
    PathType,
    comma_list,
    command,
    takes,
)
from audit.errors import UserError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class EmulatorCommand:
    account: Path
    host: str
    port: int
    state_dir: Path
    rate_limit: int | None
    latency: float
    tokens: tuple[str, ...]
    fault_rate: float
    fault_seed: int
    fault_kinds: tuple[str, ...]
    endpoint_faults: tuple[str, ...]


@command()
@click.option("--account", type=PathType(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Account file to serve (see examples/README.md).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port (default: any free port).")
@click.option("--state-dir", type=PathType(file_okay=False, path_type=Path), default=Path(".pd-audit-emulator"),
              show_default=True, help="Where the generated CA and certificate go.")
@click.option("--rate-limit", type=click.IntRange(min=1), help="Requests per minute before answering 429.")
@click.option("--latency", type=click.FloatRange(min=0), default=0.0, help="Seconds added to every response.")
@click.option("--token", "tokens", multiple=True, help="Accept only this token (repeatable).")
@click.option("--fault-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Share of requests answered with an injected fault (e.g. 0.05).")
@click.option("--fault-seed", type=int, default=0, show_default=True,
              help="Seed of the fault sequence: the same seed fails the same request numbers.")
@click.option("--fault-kinds", metavar="KIND,...", callback=lambda ctx, param, value: comma_list(value),
              help="Kinds --fault-rate draws from, comma-separated (default: all).")
@click.option("--fault", "endpoint_faults", multiple=True, metavar="ENDPOINT=KIND",
              help="Fail every request to an endpoint, e.g. '/schedules/{id}=503' (repeatable); besides the "
                   "random kinds: 404 (deleted), 400, echo400 and echo403 (echo the Authorization header).")
@takes(EmulatorCommand)
def emulator(options: EmulatorCommand) -> None:
    """Serve a PagerDuty-compatible REST API from an account file, over TLS on loopback.

    Its URL and CA certificate are printed on stdout. Faults (for rehearsing failures): 500, 502,
    503, drop (connection closed unanswered), truncate (a 200 with its JSON cut short), slow
    (answered after 35 s, past the client's timeout), 429storm (5 consecutive 429s).
    """
    from audit.emulator.faults import FAULT_KINDS, FaultPolicy, parse_endpoint_faults
    from audit.emulator.serve import serve

    kinds = options.fault_kinds or FAULT_KINDS
    faults = FaultPolicy(rate=options.fault_rate, seed=options.fault_seed,
                         per_endpoint=parse_endpoint_faults(options.endpoint_faults), kinds=kinds)
    if options.host not in LOOPBACK:
        raise UserError("the emulator serves on loopback only (127.0.0.1, localhost or ::1)")

    def ready(url: str, ca_path: Path) -> None:
        # On stdout, for scripts (`url=$(pd-audit emulator ... | head -1)`); diagnostics go to stderr.
        echo(f"serving {options.account} at {url}")
        echo(f"CA certificate: {ca_path}  (pass it to crawl with --ca-bundle)")
        if faults.active:
            always = "".join(f"; {endpoint} always {kind}" for endpoint, kind in faults.per_endpoint.items())
            echo(f"injecting faults: {options.fault_rate:g} of requests (seed {options.fault_seed}, kinds "
                 f"{','.join(kinds)}){always}", err=True)

    serve(options.account, host=options.host, port=options.port, state_dir=options.state_dir,
          rate_limit_per_minute=options.rate_limit, latency_seconds=options.latency,
          tokens=list(options.tokens) or None, ready=ready, faults=faults)
