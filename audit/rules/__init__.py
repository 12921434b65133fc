"""The rule engine: rule packs loaded from YAML, checked, and evaluated over fact tables.

One module per job: ``model`` (a rule and the pack in force), ``expressions`` (the
allow-list checker for conditions), ``messages`` (message templates), ``loader``
(YAML packs into a checked ``RulePack``) and ``evaluation`` (facts into findings).
The names below are the engine's public surface; importing it registers nothing.
"""

from audit.rules.evaluation import Evaluation, EvaluationContext, evaluate
from audit.rules.loader import BUILTIN_PACKAGE, PACK_SUFFIXES, builtin_pack_files, load_packs
from audit.rules.model import (
    EXPRESSION_FIELDS,
    ID_COLUMN,
    NAME_COLUMN,
    RULE_ID_PATTERN,
    URL_COLUMN,
    Guide,
    Param,
    ParamValue,
    Rule,
    RuleNames,
    RulePack,
)

__all__ = [
    "BUILTIN_PACKAGE",
    "EXPRESSION_FIELDS",
    "ID_COLUMN",
    "NAME_COLUMN",
    "PACK_SUFFIXES",
    "RULE_ID_PATTERN",
    "URL_COLUMN",
    "Evaluation",
    "EvaluationContext",
    "Guide",
    "Param",
    "ParamValue",
    "Rule",
    "RuleNames",
    "RulePack",
    "builtin_pack_files",
    "evaluate",
    "load_packs",
]
