"""An empty path or URL is a usage error, never "the default" or "here" (issue 18 leftovers).

In a script, ``--api-url "$URL"`` or ``--report-dir "$OUT"`` with the variable unset gives an empty
value: read as "not given" the crawl went to PagerDuty's US API instead of the one meant; read as a
path it meant the current folder. Every option and argument taking a file, folder, snapshot or URL
refuses it with one line and exit 2, before anything is read or crawled.
"""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from audit.cli import main
from audit.commands.options import PathType, UrlType

from .test_cli_vocabulary import COMMANDS

PATH_METAVARS = {"FILE", "DIR", "SNAPSHOT", "URL", "OLD", "NEW", "PLAN.json"}


def _takes_a_location(param: click.Parameter) -> bool:
    if isinstance(param, click.Option) and (param.hidden or param.is_flag):
        return False
    return isinstance(param.type, click.Path) or param.metavar in PATH_METAVARS


def _spelling(param: click.Parameter) -> str:
    return max(param.opts, key=len) if isinstance(param, click.Option) else param.human_readable_name


CASES = [(path, param) for path, command in COMMANDS.items() if not isinstance(command, click.Group)
         for param in command.params if _takes_a_location(param)]


def _argv(path: tuple[str, ...], command: click.Command, param: click.Parameter, value: str) -> list[str]:
    if isinstance(param, click.Option):
        return [*path, param.opts[0], value]
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    before = ["x"] * arguments.index(param)  # earlier arguments filled, so this one gets the value
    return [*path, *before, value]


def test_the_cases_cover_every_kind_of_location():
    spelled = {_spelling(param) for _, param in CASES}
    assert {"--api-url", "--report-dir", "--config", "--sarif", "--junit", "--baseline", "--token-file",
            "--previous", "--history", "--tf-dir", "--snapshot", "--output", "OLD", "NEW", "SNAPSHOT"} <= spelled
    assert all(isinstance(param.type, (PathType, UrlType)) for _, param in CASES)


@pytest.mark.parametrize("path, param", CASES, ids=[f"{' '.join(p)} {_spelling(q)}" for p, q in CASES])
def test_an_empty_location_is_one_line_and_exit_2(path, param, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may be written or read here
    command = COMMANDS[path]
    result = CliRunner().invoke(main, _argv(path, command, param, ""))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"pd-audit: error: {_spelling(param)}: an empty value; give ")
    assert list(tmp_path.iterdir()) == []


def test_a_blank_report_dir_is_refused_too(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["report", "SNAP", "--report-dir", "  "])
    assert (result.exit_code, result.stderr) == (2, "pd-audit: error: --report-dir: an empty value; give a directory\n")
    assert list(tmp_path.iterdir()) == []


def test_crawl_with_an_empty_api_url_does_not_fall_back_to_the_region(tmp_path, monkeypatch):
    monkeypatch.setenv("PAGERDUTY_TOKEN", "u+abcdefghijklmnopqrst")
    result = CliRunner().invoke(main, ["crawl", "-o", str(tmp_path / "snap"), "--api-url", ""])
    assert result.exit_code == 2
    assert result.stderr == ("pd-audit: error: --api-url: an empty value; give an https:// URL such as "
                             "https://api.pagerduty.com, or leave the option out for --region's\n")
    assert not (tmp_path / "snap").exists()


def test_the_client_refuses_an_empty_url_that_bypassed_the_option(monkeypatch):
    """``api_client`` takes "" as a URL given (and refused), not as "none given"."""
    from audit.commands.crawling import api_client
    from audit.commands.options import CrawlOptions
    from audit.errors import UserError

    context = main.commands["crawl"].make_context("crawl", ["-o", "snap"])
    fields = {name: context.params[name] for name in CrawlOptions.__dataclass_fields__}
    options = CrawlOptions(**{**fields, "api_url": ""})
    with pytest.raises(UserError, match="--api-url must be an https:// URL"):
        api_client(options, "u+abcdefghijklmnopqrst")


def test_a_dash_is_still_stdout_for_the_gate_files_and_a_path_still_works(tmp_path):
    context = main.commands["check"].make_context("check", ["SNAP", "--baseline", "b.json", "--sarif", "-",
                                                            "--junit", str(tmp_path / "j.xml")])
    assert context.params["sarif"] == "-" and context.params["junit"] == str(tmp_path / "j.xml")
