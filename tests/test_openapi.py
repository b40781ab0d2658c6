"""Every API route is typed: its successful response has a declared shape, all the way down.

An object with no declared properties (``dict[str, Any]``) is refused unless the field
says it is free-form on purpose (``x-free-form``, e.g. an audit snapshot of any record).
"""

from __future__ import annotations

from typing import Any

from ssaplan.app import create_app
from ssaplan.core.store import Store


def _problems(schema: Any, where: str, components: dict[str, Any], seen: set[str]) -> list[str]:
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return _problems(components.get(name, {}), f"{name}", components, seen)
    if schema.get("x-free-form"):
        return []
    out: list[str] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(schema.get(key, [])):
            out += _problems(sub, f"{where}.{key}[{i}]", components, seen)
    kinds = schema.get("type")
    if schema == {} or (
        kinds is None and not any(k in schema for k in ("anyOf", "oneOf", "allOf", "enum", "const"))
    ):
        return [f"{where}: no type"]
    if kinds == "object":
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        if not props and not isinstance(extra, dict):
            out.append(f"{where}: an object without declared properties")
        if isinstance(extra, dict):
            out += _problems(extra, f"{where}.*", components, seen)
        for name, sub in (props or {}).items():
            out += _problems(sub, f"{where}.{name}", components, seen)
    if kinds == "array":
        out += _problems(schema.get("items", {}), f"{where}[]", components, seen)
    return out


def test_every_json_route_declares_its_response(store: Store) -> None:
    spec = create_app(store).openapi()
    components = spec.get("components", {}).get("schemas", {})
    problems: list[str] = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            ok = [r for code, r in op.get("responses", {}).items() if code.startswith("2")]
            assert ok, f"{method.upper()} {path} documents no success response"
            for response in ok:
                content = response.get("content")
                if content is None:  # 204 No Content
                    continue
                if "application/json" not in content:
                    continue  # files (CSV, XML, xlsx) are described by their media type
                schema = content["application/json"].get("schema", {})
                problems += _problems(schema, f"{method.upper()} {path}", components, set())
    assert problems == [], "\n".join(problems)
