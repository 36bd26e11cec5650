"""Dataset registration: inference, validation errors, owner-only preview and statistics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from nodekit import NodeEnv

from coalition.node.auth.permissions import UserRole

DS = "/api/v1/datasets"


def _register(env: NodeEnv, role: UserRole = UserRole.DATA_SCIENTIST, **body: Any):  # type: ignore[no-untyped-def]
    return env.client.post(DS, headers=env.auth(role), json=body)


def _data(env: NodeEnv) -> Path:
    return env.home.parent / "data"


def test_register_fate_csv(env: NodeEnv, fate_data: Path) -> None:
    r = _register(env, name="breast_guest", kind="csv", id_column="id", label_column="y",
                  location=str(fate_data / "breast_hetero_guest.csv"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["row_count"] == 569
    assert body["columns"][0] == {"name": "id", "type": "string"}
    assert {"name": "y", "type": "int"} in body["columns"]
    assert {"name": "x0", "type": "float"} in body["columns"]
    assert body["shared_with"] == []
    preview = env.client.get(f"{DS}/breast_guest/preview?limit=3", headers=env.auth(UserRole.DATA_SCIENTIST))
    assert len(preview.json()["rows"]) == 3
    assert preview.json()["rows"][0]["id"] == "133"
    stats = env.client.get(f"{DS}/breast_guest/stats", headers=env.auth()).json()["columns"]
    y = next(c for c in stats if c["name"] == "y")
    assert y["count"] == 569 and y["missing"] == 0 and 0 < y["mean"] < 1
    # Operators and auditors see metadata but never values.
    assert env.client.get(f"{DS}/breast_guest", headers=env.auth(UserRole.AUDITOR)).status_code == 200
    assert env.client.get(f"{DS}/breast_guest/preview", headers=env.auth(UserRole.OPERATOR)).status_code == 403


def test_register_parquet_and_sql(env: NodeEnv) -> None:
    frame = pd.DataFrame({"uid": ["a", "b", "c"], "age": [31, 42, 57], "score": [0.1, None, 0.7]})
    frame.to_parquet(_data(env) / "people.parquet")
    r = _register(env, name="people", kind="parquet", id_column="uid",
                  location=str(_data(env) / "people.parquet"))
    assert r.status_code == 201, r.text
    assert r.json()["row_count"] == 3
    engine = sa.create_engine(f"sqlite:///{_data(env) / 'crm.db'}")
    frame.to_sql("customers", engine, index=False)
    engine.dispose()
    r = _register(env, name="crm", kind="sql", id_column="uid", table="customers",
                  location=f"sqlite:///{_data(env) / 'crm.db'}")
    assert r.status_code == 201, r.text
    assert r.json()["row_count"] == 3
    assert {"name": "age", "type": "int"} in r.json()["columns"]
    rows = env.client.get(f"{DS}/crm/preview", headers=env.auth()).json()["rows"]
    assert rows[1] == {"uid": "b", "age": 42, "score": None}


def _csv(env: NodeEnv, name: str, content: bytes) -> str:
    path = _data(env) / name
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize(("content", "id_column", "message"), [
    (b"id,x\n1,2\n1,3\n", "id", "duplicate IDs"),
    (b"id,x\n1,2\n2,3\n", "uid", "ID column not found"),
    (b"id,x\n1,caf\xe9\n", "id", "not valid UTF-8"),
    (b"id,x\n1,2\n2,abc\n3,4\n", "id", "mixes numbers and text"),
    (b"id,x\n1,2\n,3\n", "id", "missing IDs"),
    (b"", "id", "file is empty"),
    (b"id,x\n", "id", "no rows"),
])
def test_bad_csv_is_a_clear_422(env: NodeEnv, content: bytes, id_column: str, message: str) -> None:
    r = _register(env, name="bad", kind="csv", id_column=id_column, location=_csv(env, "bad.csv", content))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert message in r.json()["detail"]
    assert "abc" not in r.text and "caf" not in r.text  # no data values in errors


def test_a_column_of_id_numbers_some_ending_in_x_is_text(env: NodeEnv) -> None:
    # GB 11643 ID numbers: 17 digits and a check character that may be X. The digit-only ones
    # parse as numbers, yet the column is an identifier column, not numbers with stray text.
    path = _csv(env, "ids.csv", b"id,id_number\n1,11010519491231002X\n2,110105194912310021\n")
    r = _register(env, name="ids", kind="csv", id_column="id", location=path)
    assert r.status_code == 201, r.text
    assert {"name": "id_number", "type": "string"} in r.json()["columns"]
    short = _csv(env, "short.csv", b"id,x\n1,123456789012345\n2,12345678901234X\n")
    r = _register(env, name="short", kind="csv", id_column="id", location=short)
    assert r.status_code == 422 and "mixes numbers and text" in r.json()["detail"]


def test_missing_file_and_outside_data_dirs(env: NodeEnv, tmp_path: Path) -> None:
    r = _register(env, name="gone", kind="csv", id_column="id", location=str(_data(env) / "nope.csv"))
    assert r.status_code == 422 and r.json()["detail"] == "file not found"
    r = _register(env, name="etc", kind="csv", id_column="id", location="/etc/passwd")
    assert r.status_code == 422 and "outside the node's data folders" in r.json()["detail"]
    r = _register(env, name="db", kind="sql", id_column="id", table="t", location="sqlite:////etc/x.db")
    assert r.status_code == 422


def test_label_checks_and_duplicate_names(env: NodeEnv) -> None:
    path = _csv(env, "ok.csv", b"id,x,y\n1,2,0\n2,3,1\n")
    assert _register(env, name="d", kind="csv", id_column="id", label_column="z", location=path).status_code == 422
    assert _register(env, name="d", kind="csv", id_column="id", label_column="id", location=path).status_code == 422
    assert _register(env, name="d", kind="csv", id_column="id", label_column="y", location=path).status_code == 201
    assert _register(env, name="d", kind="csv", id_column="id", location=path).status_code == 409
    assert env.client.delete(f"{DS}/d", headers=env.auth(UserRole.DATA_SCIENTIST)).status_code == 200
    assert env.client.get(f"{DS}/d", headers=env.auth()).status_code == 404


def test_sql_password_is_hidden(env: NodeEnv) -> None:
    from coalition.node.data.datasets import safe_location
    from coalition.node.data.tables import Dataset

    row = Dataset(kind="sql", location="postgresql://etl:s3cret@db/crm")
    assert "s3cret" not in safe_location(row)
