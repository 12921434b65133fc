"""The rule expression checker: what a condition may say, and the names it uses.

Conditions are pandas expressions. Before one reaches ``DataFrame.eval`` (python
engine, no globals) its syntax tree is checked against an allow-list: names must
be declared columns (the loader checks that), ``@name`` must be a declared
parameter, calls are limited to a few Series/string methods, and nothing starting
with ``_`` can be reached. The checker also says which columns and parameters an
expression uses, so the loader finds them once and the evaluator never parses again.
"""

from __future__ import annotations

import ast
import dataclasses
import io
import tokenize
import unicodedata
from collections.abc import Iterable

# What a condition may contain. Everything else (lambda, comprehension, subscript,
# if-expression, walrus, starred arguments...) is refused before pandas sees it.
# No "**": a rule never needs it, and 10 ** 10 ** 9 would hang the audit.
_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.Invert, ast.USub, ast.UAdd,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.BitAnd, ast.BitOr,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple, ast.Call, ast.Attribute, ast.keyword,
)  # fmt: skip
_ALLOWED_FUNCTIONS = frozenset({"abs"})
# Series methods, the .str/.dt accessors and their methods that rules need. Extend
# deliberately: every name here is reachable from a user's rule pack.
_ALLOWED_ATTRIBUTES = frozenset({
    "str", "dt", "isna", "notna", "isin", "between", "fillna", "abs", "round",
    "len", "contains", "startswith", "endswith", "match", "fullmatch", "lower", "upper", "strip",
    "hour", "dayofweek", "days", "total_seconds",
})  # fmt: skip
_ALLOWED_KEYWORDS = frozenset({"regex", "case", "na", "inclusive"})
_PARAM_PREFIX = "_param_"  # stands for "@" while checking; user names may not start with "_"


def joined_names(items: Iterable[str]) -> str:
    """Names sorted and comma-joined for an error message, or "none"."""
    names = sorted(items)
    return ", ".join(names) if names else "none"


@dataclasses.dataclass(frozen=True)
class ExpressionNames:
    """The columns and ``@parameters`` one expression reads."""

    columns: frozenset[str]
    params: frozenset[str]


def check_expression(text: str) -> ExpressionNames:
    """The columns and parameters ``text`` uses; ValueError if it is not a safe rule expression."""
    tree = ast.parse(_rewrite_params(text), mode="eval")
    columns: set[str] = set()
    params: set[str] = set()
    nodes = list(ast.walk(tree))
    # Name the forbidden construct itself (a lambda, not the call around it).
    for node in nodes:
        if not isinstance(node, _ALLOWED_NODES):
            raise ValueError(f"{type(node).__name__.lower()} is not allowed in a rule expression")
    called = {id(node.func) for node in nodes if isinstance(node, ast.Call)}
    for node in nodes:
        if isinstance(node, ast.Constant) and not isinstance(node.value, (str, int, float, bool, type(None))):
            raise ValueError(f"constant {node.value!r} is not allowed")
        if isinstance(node, ast.BinOp) and any(_is_sequence_literal(side) for side in (node.left, node.right)):
            # 'x' * 10**9 or [0] * 10**9 would exhaust memory; no rule computes with literals like that
            raise ValueError("arithmetic on a string or list literal is not allowed")
        if isinstance(node, ast.Attribute) and node.attr not in _ALLOWED_ATTRIBUTES:
            raise ValueError(f"attribute {node.attr!r} is not allowed (allowed: {joined_names(_ALLOWED_ATTRIBUTES)})")
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id not in _ALLOWED_FUNCTIONS:
                allowed = joined_names(_ALLOWED_FUNCTIONS)
                raise ValueError(f"calling {node.func.id!r} is not allowed (allowed: {allowed})")
            if not isinstance(node.func, (ast.Name, ast.Attribute)):
                raise ValueError("only named functions and methods may be called")
            for keyword in node.keywords:
                if keyword.arg not in _ALLOWED_KEYWORDS:
                    raise ValueError(f"keyword argument {keyword.arg!r} is not allowed")
        if isinstance(node, ast.Name) and id(node) not in called:
            if node.id.startswith(_PARAM_PREFIX):
                params.add(node.id.removeprefix(_PARAM_PREFIX))
            else:
                columns.add(node.id)
    return ExpressionNames(frozenset(columns), frozenset(params))


def _is_sequence_literal(node: ast.AST) -> bool:
    return isinstance(node, (ast.List, ast.Tuple)) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _rewrite_params(text: str) -> str:
    """``text`` with each ``@name`` spelled as a plain name Python's parser accepts."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as exc:
        raise ValueError(f"invalid expression ({exc.args[0]})") from None
    out: list[tuple[int, str]] = []
    for index, token in enumerate(tokens):
        if token.type == tokenize.ERRORTOKEN:
            raise ValueError(f"unexpected {token.string!r}")
        # Python folds identifiers to NFKC, so a full-width low line is a "_" too.
        if token.type == tokenize.NAME and unicodedata.normalize("NFKC", token.string).startswith("_"):
            raise ValueError(f"names starting with '_' are not allowed ({token.string!r})")
        if token.type == tokenize.OP and token.string == "@":
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if following is None or following.type != tokenize.NAME or following.start != token.end:
                raise ValueError("'@' must be followed directly by a parameter name")
            continue
        if token.type == tokenize.NAME and index and tokens[index - 1].string == "@":
            out.append((tokenize.NAME, _PARAM_PREFIX + token.string))
        else:
            out.append((token.type, token.string))
    return tokenize.untokenize(out)

