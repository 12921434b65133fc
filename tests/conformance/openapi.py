"""PagerDuty's OpenAPI description as a checker of requests and responses.

``OpenApiContract`` reads an OpenAPI 3.0 file (the whole published one or the subset) and
answers two questions about one exchange: is the request one the API declares (a known path,
only declared query parameters, each value valid for its parameter's schema, every required
one present), and does the response body match the schema declared for its status.
Responses are validated by openapi-core; parameter values by openapi-schema-validator, after
reading the query string the way PagerDuty does: ``include[]=a&include[]=b`` repeats a key, and
integers and booleans travel as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

HOST = "https://api.pagerduty.com"


@dataclass(frozen=True)
class Violation:
    """One way a response body breaks its schema."""

    json_path: tuple[str | int, ...]
    message: str
    instance: Any = None
    validator: str = ""
    validator_value: Any = None

    @property
    def field(self) -> str | None:
        """The last named key on the path (list indexes skipped)."""
        return next((part for part in reversed(self.json_path) if isinstance(part, str)), None)


@dataclass(frozen=True)
class Operation:
    template: str  # the path as the description writes it, e.g. /schedules/{id}
    parameters: tuple[Mapping[str, Any], ...]

    def query_parameters(self) -> dict[str, Mapping[str, Any]]:
        return {p["name"]: p for p in self.parameters if p.get("in") == "query"}


class OpenApiContract:
    def __init__(self, path: Path):
        self.path = path
        self.document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        # Literal segments first, so /schedules/{id}/users never passes for /schedules/{id}.
        self._templates = sorted(
            ((template, re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"))
             for template in self.document["paths"]),
            key=lambda pair: (-pair[0].count("/"), pair[0].count("{"), pair[0]),
        )

    @cached_property
    def api(self):
        """openapi-core's view of the file (built once: the whole file takes ~2 s)."""
        from openapi_core import Config, OpenAPI

        # The file itself is PagerDuty's and known to load; validating it would cost seconds per run.
        return OpenAPI.from_dict(self.document, config=Config(spec_validator_cls=None))

    # -- requests ----------------------------------------------------------------------------
    def resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def operation(self, method: str, path: str) -> Operation | None:
        for template, pattern in self._templates:
            if pattern.match(path):
                item = self.document["paths"][template]
                declared = item.get(method.lower())
                if declared is None:
                    return None
                parameters = [self.resolve(p) for p in item.get("parameters", [])]
                overridden = {(p["name"], p["in"]) for p in map(self.resolve, declared.get("parameters", []))}
                parameters = [p for p in parameters if (p["name"], p["in"]) not in overridden]
                parameters += [self.resolve(p) for p in declared.get("parameters", [])]
                return Operation(template, tuple(parameters))
        return None

    def request_errors(self, method: str, path: str, query: Iterable[tuple[str, str]]) -> list[str]:
        """What the description does not allow in this request; [] when it conforms."""
        operation = self.operation(method, path)
        if operation is None:
            return [f"{method} {path}: no such operation in {self.path.name}"]
        declared = operation.query_parameters()
        values: dict[str, list[str]] = {}
        for name, value in query:
            values.setdefault(name, []).append(value)
        errors = [f"{operation.template}: query parameter {name!r} is not declared"
                  for name in values if name not in declared]
        errors += [f"{operation.template}: required query parameter {name!r} is missing"
                   for name, parameter in declared.items() if parameter.get("required") and name not in values]
        for name, given in values.items():
            if name in declared:
                errors += [f"{operation.template}: {name}={given!r}: {problem}"
                           for problem in self._value_errors(declared[name], given)]
        return errors

    def _value_errors(self, parameter: Mapping[str, Any], given: list[str]) -> list[str]:
        from openapi_schema_validator import OAS30Validator, oas30_format_checker

        schema = self.resolve(parameter.get("schema", {}))
        if schema.get("type") == "array":
            item_schema = self.resolve(schema.get("items", {}))
            candidate: Any = [_typed(item_schema, value) for value in given]
            checks = [(schema, candidate)]
        else:
            # PagerDuty declares most include[] as one string with an enum and takes it repeated:
            # each repetition must be a valid value.
            checks = [(schema, _typed(schema, value)) for value in given]
        problems = []
        for check_schema, candidate in checks:
            validator = OAS30Validator(check_schema, format_checker=oas30_format_checker)
            problems += [error.message for error in validator.iter_errors(candidate)]
        return problems

    # -- responses ---------------------------------------------------------------------------
    def response_violations(self, method: str, path: str, status: int, body: bytes) -> list[Violation]:
        """How the body breaks the schema declared for this status; [] when it conforms."""
        from openapi_core.exceptions import OpenAPIError
        from openapi_core.testing import MockRequest, MockResponse

        try:
            self.api.validate_response(MockRequest(HOST, method.lower(), path),
                                       MockResponse(body, status_code=status))
        except OpenAPIError as exc:  # openapi-core wraps the schema errors as the cause
            schema_errors = getattr(exc.__cause__, "schema_errors", None)
            if schema_errors is None:
                return [Violation((), f"{type(exc).__name__}: {exc}")]
            return [Violation(tuple(e.absolute_path), e.message, e.instance, str(e.validator), e.validator_value)
                    for e in schema_errors]
        return []


def _typed(schema: Mapping[str, Any], value: str) -> Any:
    """A query-string value as the type its schema declares (left as text when it is not one)."""
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?\d+", value):
        return int(value)
    if kind == "number" and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return float(value)
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value
