"""The lake suites pick their store per parameter (`request.getfixturevalue`), which pytest cannot see at
collection: this hook names each parameter's store fixture on the item, so tests/conftest.py marks it
(integration + the store) and `make test-fast` leaves it out, exactly as if it were requested by name."""

from __future__ import annotations

import pytest

STORE_OF_PARAMETER = {"s3": "s3_store", "azure": "azure_store", "gcs": "gcs_store", "delta-s3": "s3_store"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None:
            continue
        for value in callspec.params.values():
            fixture = STORE_OF_PARAMETER.get(value) if isinstance(value, str) else None
            if fixture and fixture not in item.fixturenames:  # type: ignore[attr-defined]
                # a new list: parametrised items share one closure list, which must stay untouched
                item.fixturenames = [*item.fixturenames, fixture]  # type: ignore[attr-defined]
