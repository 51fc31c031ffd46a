"""Schemathesis against the committed OpenAPI document (api/openapi.json) on the real ASGI app.

Every operation gets generated requests (valid and invalid) with an admin key; the checks:
no 5xx, a status code the document declares, the declared content type, and a body that
conforms to the declared schema. Bounded examples keep the run under a minute.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from precursorwatch.settings import get_settings
from precursorwatch.store import create_api_key
from precursorwatch.web import create_app

with warnings.catch_warnings():  # schemathesis pulls in starlette's testclient
    warnings.simplefilter("ignore")
    import schemathesis
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )

ROOT = Path(__file__).parent.parent
COMMITTED = json.loads((ROOT / "api" / "openapi.json").read_text(encoding="utf-8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Examples per operation (and per phase); the whole module stays well under 60 s.
EXAMPLES = 15


#: The app under test, over a store in a temporary directory that is opened (created, lists
#: loaded) on the first request: the schema's operations need the app when they are collected.
STORE_DIR = Path(tempfile.mkdtemp(prefix="precursorwatch-fuzz-"))
APP = create_app(
    get_settings(
        database_url=f"sqlite:///{STORE_DIR / 'fuzz.sqlite'}",
        data_dir=STORE_DIR,
        max_upload_bytes=200_000,
    )
)
SCHEMA = schemathesis.openapi.from_dict(COMMITTED)
SCHEMA.app = APP


@pytest.fixture(scope="module")
def secret() -> Iterator[str]:
    """An admin key of :data:`APP`'s store; the store is closed and removed afterwards."""
    store = APP.state.pw.store
    with store.session() as session:
        _, key = create_api_key(session=session, name="fuzzer", role="admin")
    yield key
    store.dispose()
    shutil.rmtree(STORE_DIR, ignore_errors=True)


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_document(case: Any, secret: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)
