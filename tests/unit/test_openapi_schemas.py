"""The /v1 OpenAPI document is generated from the handlers' types (issue 11, item 7):
``rest.schemas`` turns TypedDicts and read models into JSON Schema, and the document
declares every query parameter a handler reads."""

from __future__ import annotations

import inspect
import re
from typing import Any

from rest.accounts import LoginBody, RegisterBody
from rest.apikeys import IssuedKeyView, KeyBody
from rest.openapi import QUERY_TYPES, openapi_document, response_type
from rest.routes import ROUTES
from rest.schemas import Schemas, json_schema

DOCUMENT = openapi_document(ROUTES, server_url="http://127.0.0.1:8080")


def test_typed_dicts_give_required_lists_enums_nulls_and_examples() -> None:
    view = json_schema(IssuedKeyView)
    assert view["type"] == "object"
    # NotRequired keys (left out when unset) are the only optional ones.
    assert set(view["properties"]) - set(view["required"]) == {
        "expiresAt", "lastUsedAt", "previousKeyExpiresAt"
    }  # fmt: skip
    assert view["properties"]["status"] == {
        "type": "string", "enum": ["active", "disabled", "expired", "revoked"]
    }  # fmt: skip
    assert view["properties"]["description"]["type"] == ["string", "null"]
    assert view["properties"]["scopes"] == {"type": "array", "items": {"type": "string"}}
    assert view["properties"]["createdAt"]["examples"] == ["2026-01-31T12:00:00Z"]
    assert json_schema(RegisterBody)["required"] == ["email", "password"]
    assert json_schema(LoginBody)["properties"]["totpCode"]["type"] == ["string", "null"]
    assert "required" not in json_schema(KeyBody)  # total=False: every field optional


def test_read_models_are_named_components_with_the_views_key_spelling() -> None:
    components: dict[str, Any] = {}
    ref = Schemas(components).of(response_type(_route("GET", "/v1/config/runtime")))
    assert ref == {"$ref": "#/components/schemas/RuntimeConfigSnake"}
    assert "email_verification" in components["RuntimeConfigSnake"]["properties"]
    status = Schemas(components).of(response_type(_route("GET", "/v1/auth/totp")))
    assert components[status["$ref"].rsplit("/", 1)[1]]["required"] == [
        "enabled", "recoveryCodesRemaining"
    ]  # fmt: skip


def test_envelopes_wrap_the_data_type_as_the_route_style_answers() -> None:
    me = DOCUMENT["paths"]["/v1/auth/me"]["get"]["responses"]["200"]
    assert me["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/UserProto"}
    totp = DOCUMENT["paths"]["/v1/auth/totp"]["get"]["responses"]["200"]
    gin = totp["content"]["application/json"]["schema"]
    assert gin["required"] == ["code", "message", "data"]
    assert gin["properties"]["code"] == {"type": "integer", "const": 200}
    login = DOCUMENT["paths"]["/v1/auth/login"]["post"]["responses"]["200"]
    assert len(login["content"]["application/json"]["schema"]["anyOf"]) == 2  # sid or 2FA
    start = DOCUMENT["paths"]["/v1/auth/oauth/{provider}/start"]["get"]["responses"]
    assert "Location" in start["302"]["headers"]


def test_security_schemes_cover_every_credential() -> None:
    schemes = DOCUMENT["components"]["securitySchemes"]
    assert {(s.get("in"), s.get("name")) for s in schemes.values()} >= {
        ("cookie", "sid"), ("header", "X-Session-Id"), ("header", "X-API-Key"),
        ("header", "X-Admin-Key"),
    }  # fmt: skip
    keys = DOCUMENT["paths"]["/v1/auth/api-keys"]["get"]["security"]
    assert {"apiKey": []} in keys and {"sessionHeader": []} in keys
    users = DOCUMENT["paths"]["/v1/admin/users"]["get"]["security"]
    assert {"adminKey": []} in users


_READS = re.compile(r"""\bquery(?:_int|_instant)?\("(\w+)\"""")


def test_every_query_parameter_a_handler_reads_is_declared_and_typed() -> None:
    for route in ROUTES:
        source = inspect.getsource(route.handler)
        read = set(_READS.findall(source))
        if "_page_of(req" in source:  # rest.music's paging helper
            read |= {"page", "page_size"}
        assert read <= set(route.query_fields), (route.method, route.path, read)
        declared = DOCUMENT["paths"][route.path][route.method.lower()].get("parameters", [])
        query = {p["name"]: p["schema"] for p in declared if p["in"] == "query"}
        assert set(query) == set(route.query_fields)
        assert all(name in QUERY_TYPES for name in route.query_fields)
    audit = DOCUMENT["paths"]["/v1/admin/audit"]["get"]["parameters"]
    assert {p["name"]: p["schema"].get("format") for p in audit}["since"] == "date-time"


def _route(method: str, path: str) -> Any:
    return next(r for r in ROUTES if (r.method, r.path) == (method, path))


def _untyped(schema: Any, components: dict[str, Any], seen: frozenset[str] = frozenset()) -> bool:
    """Whether ``schema`` is, or holds, "an object of any fields" (what ``dict[str, Any]``
    makes): no properties and any value allowed."""
    if isinstance(schema, list):
        return any(_untyped(item, components, seen) for item in schema)
    if not isinstance(schema, dict):
        return False
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[1]
        return name not in seen and _untyped(components[name], components, seen | {name})
    kinds = schema.get("type")
    is_object = kinds == "object" or (isinstance(kinds, list) and "object" in kinds)
    if (
        is_object
        and "properties" not in schema
        and schema.get("additionalProperties", {}) == {}
        and schema.get("maxProperties") != 0
    ):
        return True
    return any(_untyped(value, components, seen) for value in schema.values())


def test_every_v1_response_has_a_typed_schema() -> None:
    """No /v1 answer is documented as "an object of any fields": each handler's return
    type is a TypedDict (or a read model), so its fields, required keys and enums are in
    the document."""
    components = DOCUMENT["components"]["schemas"]
    offenders = []
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status == "default":
                    continue
                for content in response.get("content", {}).values():
                    if _untyped(content["schema"], components):
                        offenders.append(f"{method.upper()} {path}")
    assert offenders == [], offenders
    assert _untyped({"type": ["object", "null"], "additionalProperties": {}}, components)


def test_the_payment_channel_views_name_each_providers_fields() -> None:
    """``rest.payments.channel_view`` spreads a channel's fields into the view: its types
    list exactly ``CHANNEL_FIELDS``, the secrets optional (absent until set)."""
    from typing import get_args

    from domain.billing.channels import CHANNEL_FIELDS, SECRET_FIELDS
    from rest.payments import ChannelSettings

    for view in get_args(ChannelSettings):
        schema = json_schema(view)
        (provider,) = schema["properties"]["provider"]["enum"]
        fields = set(schema["properties"]) - {"provider", "enabled", "callbackNetworks"}
        assert fields == set(CHANNEL_FIELDS[provider])
        assert fields - set(schema["required"]) == fields & SECRET_FIELDS
