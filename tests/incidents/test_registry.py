"""The incident registry through the CLI and the Python functions the web form uses."""

from __future__ import annotations

import json

import pytest

from ashyq.cli import main
from ashyq.incidents.model import IncidentError, incident_from_fields, parse_when
from ashyq.incidents.registry import add_incident, get_incident, list_incidents, set_status
from ashyq.store import Store


def test_add_and_list_through_the_cli(tmp_path, capsys):
    data = str(tmp_path / "d")
    argv = [
        "incidents",
        "add",
        "--data",
        data,
        "--platform",
        "Ватсап",
        "--type",
        "account_blocked",
        "--when",
        "2024-03-14T09:30+05:00",
        "--person",
        "A. Journalist",
        "--outlet",
        "Example Times",
        "--number",
        "+44 7700 900123",
        "--source",
        "phone call",
        "--format",
        "json",
    ]
    assert main(argv) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["platform"] == "whatsapp"
    assert added["when"] == "2024-03-14T04:30"  # UTC, to the minute
    assert added["precision"] == "minute"
    assert added["prefixes"] == ["+44"] and added["country_codes"] == ["GB"]
    assert main(["incidents", "list", "--data", data, "--format", "json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["incident_id"] == added["incident_id"]
    assert listed["status"] == "draft"
    assert main(["incidents", "status", listed["incident_id"], "verified", "--data", data]) == 0
    capsys.readouterr()
    assert main(["incidents", "list", "--data", data, "--status", "verified"]) == 0
    assert listed["incident_id"] in capsys.readouterr().out


def test_hashed_account_never_stored_in_clear(tmp_path, capsys):
    data = tmp_path / "d"
    secret = "+77011234567"
    assert (
        main(
            [
                "incidents",
                "add",
                "--data",
                str(data),
                "--platform",
                "whatsapp",
                "--type",
                "locked_out",
                "--when",
                "2024-03",
                "--account",
                secret,
                "--hash-account",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "incidents",
                "add",
                "--data",
                str(data),
                "--platform",
                "whatsapp",
                "--type",
                "locked_out",
                "--when",
                "2024-04",
                "--account",
                "+7 701 123 45 67",
                "--hash-account",
            ]
        )
        == 0
    )
    capsys.readouterr()
    found = list_incidents(data)
    assert all(i.account_hashed and i.account.startswith("hmac-sha256:") for i in found)
    assert found[0].account == found[1].account  # the same account, written differently
    assert found[0].precision == "month" and found[0].when == "2024-03"
    for path in data.rglob("*"):
        if path.is_file():
            assert b"77011234567" not in path.read_bytes(), path


def test_anonymous_report_and_python_interface(tmp_path):
    store = Store.open(tmp_path / "d")
    inc = incident_from_fields(
        {
            "platform": "instagram",
            "type": "post_removed",
            "when": "2024-05-02",
            "complainant": "Copyright Agency LLC",
            "notice_text": "Your post was removed.",
        }
    )
    incident_id = add_incident(store, inc)
    got = get_incident(store, incident_id)
    assert got is not None and got.person is None and got.outlet is None
    assert got.complainant == "Copyright Agency LLC"
    set_status(store, incident_id, "in_review")
    assert [i.status for i in list_incidents(store, platform="instagram")] == ["in_review"]
    with pytest.raises(IncidentError, match="status"):
        set_status(store, incident_id, "approved")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"type": "account_blocked", "when": "2024-01-01"}, "platform"),
        ({"platform": "x", "type": "hacked", "when": "2024-01-01"}, "type"),
        ({"platform": "x", "type": "account_blocked", "when": "yesterday"}, "when"),
        ({"platform": "x", "type": "account_blocked", "when": "2024-02-30"}, "when"),
        (
            {"platform": "x", "type": "call_flood", "when": "2024-01-01", "country_codes": "GBR"},
            "country_codes",
        ),
        (
            {"platform": "x", "type": "call_flood", "when": "2024-01-01", "prefixes": "+4x"},
            "prefixes",
        ),
        (
            {"platform": "x", "type": "call_flood", "when": "2024-01", "precision": "day"},
            "precision",
        ),
        (
            {
                "platform": "x",
                "type": "locked_out",
                "when": "2024-01",
                "account": "bob",
                "account_hashed": "true",
            },
            "account",
        ),
    ],
)
def test_bad_fields_are_named(fields, message):
    with pytest.raises(IncidentError, match=message):
        incident_from_fields(fields)


def test_cli_user_errors(tmp_path, capsys):
    assert (
        main(
            [
                "incidents",
                "add",
                "--data",
                str(tmp_path),
                "--platform",
                "whatsapp",
                "--type",
                "nope",
                "--when",
                "2024-01-01",
            ]
        )
        == 2
    )
    assert "type" in capsys.readouterr().err
    assert main(["incidents", "campaigns", "--data", str(tmp_path), "--window", "0"]) == 2


def test_when_precisions():
    assert parse_when("2024-03-14T09")[1] == "hour"
    assert parse_when("2024-03-14")[1] == "day"
    assert parse_when("2024-03-14 09:30:15")[1] == "minute"
    t, p = parse_when("2024-03-14T09:30", "day")
    assert (t.hour, p) == (0, "day")


def test_incidents_survive_a_store_rebuild(tmp_path):
    data = tmp_path / "d"
    store = Store.open(data)
    add_incident(
        store,
        incident_from_fields(
            {
                "platform": "whatsapp",
                "type": "account_blocked",
                "when": "2024-03-14",
                "account": "x",
                "account_hashed": False,
            }
        ),
        hash_account=True,
    )
    before = list_incidents(store)
    store.rebuild()
    after = list_incidents(Store.open(data))
    assert [i.incident_id for i in after] == [i.incident_id for i in before]
    # the salt came back too: the same account hashes the same
    add_incident(
        store,
        incident_from_fields(
            {
                "platform": "whatsapp",
                "type": "account_blocked",
                "when": "2024-03-15",
                "account": "x",
            }
        ),
        hash_account=True,
    )
    accounts = {i.account for i in list_incidents(store)}
    assert len(accounts) == 1


def test_read_only_store_lists_without_writing(tmp_path):
    from ashyq.claims.storage import list_claims

    Store.open(tmp_path / "d")
    reader = Store.open(tmp_path / "d", read_only=True)
    assert list_incidents(reader) == []
    assert list_claims(reader) == []


def test_form_text_fields_are_split():
    inc = incident_from_fields(
        {
            "platform": "WhatsApp",
            "type": "message_flood",
            "when": "2024-03-14",
            "country_codes": "gb us, GB",
            "prefixes": "+44 1;+44",
            "numbers": "+1 202 555 0101",
        }
    )
    assert inc.country_codes == ["GB", "US"]
    assert inc.prefixes == ["+44", "+1"]
    assert inc.numbers == ["+1 202 555 0101"]


def test_add_incident_on_an_open_connection(tmp_path):
    import duckdb

    data = tmp_path / "d"
    Store.open(data)
    con = duckdb.connect(str(data / "ashyq.duckdb"))
    try:
        inc = incident_from_fields(
            {"platform": "telegram", "type": "call_flood", "when": "2024-01-01T10"}
        )
        incident_id = add_incident(con, inc)
        assert [i.incident_id for i in list_incidents(con)] == [incident_id]
    finally:
        con.close()
    assert (data / "journal" / "incidents.jsonl").read_text().count(incident_id) == 1
    assert get_incident(data, incident_id).precision == "hour"


def test_list_filters_and_bad_bounds(tmp_path, capsys):
    data = str(tmp_path / "d")
    for when in ("2024-01-10", "2024-03-10"):
        assert (
            main(
                [
                    "incidents",
                    "add",
                    "--data",
                    data,
                    "--platform",
                    "whatsapp",
                    "--type",
                    "call_flood",
                    "--when",
                    when,
                ]
            )
            == 0
        )
    capsys.readouterr()
    assert (
        main(["incidents", "list", "--data", data, "--since", "2024-02", "--format", "json"]) == 0
    )
    assert [i["when"] for i in json.loads(capsys.readouterr().out)] == ["2024-03-10"]
    assert main(["incidents", "list", "--data", data, "--since", "last week"]) == 2
    assert "--since" in capsys.readouterr().err
    assert main(["claims", "list", "--data", data, "--until", "soon"]) == 2


def test_a_form_gets_every_error_at_once():
    from ashyq.incidents.model import field_errors

    errors = field_errors(
        {
            "platform": "",
            "type": "hacked",
            "when": "14/03/2024",
            "prefixes": "x1",
            "person": "A. Person",
        }
    )
    assert set(errors) == {"platform", "type", "when", "prefixes"}
    ok = {"platform": "WhatsApp", "type": "locked_out", "when": "2024-03-14"}
    assert field_errors(ok) == {}


def test_hashed_account_cannot_be_recovered_from_the_data_alone(tmp_path, monkeypatch):
    import hashlib
    import json
    import stat

    from ashyq.incidents.registry import account_key_path, list_incidents

    key_file = tmp_path / "config" / "account.key"
    monkeypatch.setenv("ASHYQ_ACCOUNT_KEY_FILE", str(key_file))
    data = tmp_path / "d"
    args = ["incidents", "add", "--data", str(data), "--platform", "whatsapp"]
    args += ["--type", "locked_out", "--when", "2024-03", "--account", "+77011234567"]
    assert main([*args, "--hash-account"]) == 0
    assert account_key_path() == key_file and key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not any(p.name == "account.key" for p in data.rglob("*"))
    [inc] = list_incidents(data)
    # the salt is in the data directory, but salt + account alone does not give the stored hash
    journal = (data / "journal" / "incidents.jsonl").read_text().splitlines()
    salt = next(json.loads(x)["value"] for x in journal if "__meta__" in x)
    plain = hashlib.sha256((salt + "+77011234567").encode()).hexdigest()
    assert inc.account.startswith("hmac-sha256:") and plain not in inc.account
    # the same account hashes the same way while the key stays; another key, another hash
    assert main([*args, "--hash-account"]) == 0
    assert len({i.account for i in list_incidents(data)}) == 1
    monkeypatch.setenv("ASHYQ_ACCOUNT_KEY", "another key")
    assert main([*args, "--hash-account"]) == 0
    assert len({i.account for i in list_incidents(data)}) == 2
