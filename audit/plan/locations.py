"""Where each resource block is in the Terraform files: ``--tf-dir DIR`` -> file and line.

The ``.tf`` files are parsed with python-hcl2 (a maintained HCL2 parser), not scanned with
patterns, so a ``resource`` word in a comment or a heredoc is never taken for a block. Only the
directories' own files are read: the root module's (a module's resources keep their address
only, see ``PlanResult.location_of``). A file that does not parse is named in a one-line error
(exit 2), and so is the parser when it is missing from the environment: only ``--tf-dir`` needs
it, so a plan judged without it never imports it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from audit.errors import UserError


@dataclasses.dataclass(frozen=True)
class Location:
    file: Path  # as given: relative to where pd-audit runs, or absolute
    line: int
    end_line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def resource_blocks(directories: Iterable[str | os.PathLike[str]]) -> dict[str, Location]:
    """``TYPE.NAME`` -> where its ``resource`` block starts and ends, over every ``*.tf`` file given."""
    directories = list(directories)
    blocks: dict[str, Location] = {}
    if not directories:
        return blocks
    hcl2 = _hcl_parser()
    for directory in directories:
        folder = Path(directory)
        if not folder.is_dir():
            raise UserError(f"--tf-dir {folder}: not a directory")
        for file in sorted(folder.glob("*.tf")):
            try:
                tree = hcl2.parses_to_tree(file.read_text(encoding="utf-8"))
            except UnicodeDecodeError:
                raise UserError(f"{file}: not UTF-8 text") from None
            except OSError as exc:
                raise UserError(f"{file}: cannot be read ({exc.strerror or exc.__class__.__name__})") from None
            except Exception as exc:  # lark's parse errors have no common public base  # noqa: BLE001
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
                raise UserError(f"{file}: not valid HCL ({first})") from None
            for labels, line, end_line in _top_level_blocks(tree):
                if len(labels) == 3 and labels[0] == "resource":
                    blocks.setdefault(f"{labels[1]}.{labels[2]}", Location(file, line, end_line))
    return blocks


def _hcl_parser() -> Any:
    """The python-hcl2 module; missing (a venv installed without pd-audit's dependencies), one line."""
    try:
        import hcl2
        import lark  # noqa: F401  # hcl2's own parser, used below: missing alone, hcl2 is not usable
    except ImportError as exc:
        missing = "python-hcl2" if exc.name in (None, "hcl2") else f"{exc.name} (needed by python-hcl2)"
        raise UserError(f"--tf-dir needs the {missing} package, which is not installed here: "
                        f"python -m pip install '{_hcl2_requirement()}' (or reinstall pd-audit with its "
                        "dependencies)") from None
    return hcl2


def _hcl2_requirement() -> str:
    """The python-hcl2 versions pd-audit's own metadata asks for (pyproject.toml), for the hint."""
    import importlib.metadata

    try:
        wanted = importlib.metadata.requires("pd-audit") or []
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        wanted = []
    return next((spec.split(";")[0].strip() for spec in wanted if spec.startswith("python-hcl2")), "python-hcl2")


def _top_level_blocks(tree: object) -> list[tuple[list[str], int, int]]:
    """(block type and labels, first line, last line) of each block of the file's body."""
    from lark import Token, Tree

    found = []
    body = next((child for child in getattr(tree, "children", []) if isinstance(child, Tree)), None)
    for block in getattr(body, "children", []) or []:
        if not (isinstance(block, Tree) and block.data == "block"):
            continue
        labels = []
        for part in block.children:
            if isinstance(part, Tree) and part.data in ("identifier", "string"):
                labels.append("".join(t.value for t in part.scan_values(lambda v: isinstance(v, Token))
                                      if t.type not in ("DBLQUOTE",)))
            elif isinstance(part, Token) or (isinstance(part, Tree) and part.data == "body"):
                break
        found.append((labels, block.meta.line, block.meta.end_line))
    return found
