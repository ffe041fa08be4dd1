"""Checks Tessera's answers against its OpenAPI document (Sources/TesseraServer/OpenAPI/openapi.json)
with openapi-core: the operation the request went to, the status (it must be documented for that
operation), the documented response headers, the content type and the body's schema."""
import functools
import json
from pathlib import Path

import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.templating.paths.finders import APICallPathFinder

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "Sources" / "TesseraServer" / "OpenAPI" / "openapi.json"


@functools.cache
def openapi() -> OpenAPI:
    return OpenAPI.from_file_path(str(DOCUMENT))


@functools.cache
def document() -> dict:
    return json.loads(DOCUMENT.read_text())


def operation_of(method: str, url: str) -> tuple[str, str]:
    """(METHOD, path template) of the documented operation `url` goes to; raises if none."""
    found = APICallPathFinder(openapi().spec).find(method.lower(), url.split("?", 1)[0].split("#", 1)[0])
    # The path item's key in the document, e.g. "/api/users/me/keys/{name}".
    return method.upper(), found.path.parts[-1]


def validate_response(server_url: str, response: requests.Response) -> tuple[str, str, int]:
    """Validates `response` (and each redirect `requests` followed to it) against the document;
    returns (METHOD, path template, status) of the last one. Raises AssertionError saying which
    request, what came back and what the document disagrees with."""
    for hop in [*response.history, response]:
        result = _validate_one(server_url, hop)
    return result


def _validate_one(server_url: str, response: requests.Response) -> tuple[str, str, int]:
    request = response.request
    assert request.url.startswith(server_url.rstrip("/") + "/"), f"{request.url} is not a URL of {server_url}"
    try:
        method, template = operation_of(request.method, request.url)
    except Exception as error:  # openapi-core's PathNotFound / OperationNotFound
        raise AssertionError(f"{request.method} {request.url}: no operation of the document: {error}") from None
    try:
        openapi().validate_response(RequestsOpenAPIRequest(request), RequestsOpenAPIResponse(response))
    except Exception as error:
        errors = getattr(error.__cause__, "schema_errors", None) or getattr(error, "schema_errors", None) or []
        reasons = [f"{'/'.join(map(str, item.absolute_path)) or '(body)'}: {item.message[:300]}" for item in errors] or [str(error)[:600]]
        raise AssertionError(
            f"{request.method} {request.url} ({method} {template}) answered {response.status_code} "
            f"{response.headers.get('Content-Type')!r} {response.text[:300]!r}, which the document does not allow: "
            f"{type(error).__name__}: {'; '.join(reasons)}"
        ) from None
    return method, template, response.status_code
