"""Import and export: round trips, broken files reported per row with nothing imported."""

from __future__ import annotations

import json

from ashyq.cli import main
from ashyq.incidents.registry import list_incidents

GOOD_CSV = (
    "platform,type,when,person,prefixes,country_codes,complainant,notice_text,status\n"
    "whatsapp,account_blocked,2024-03-14,,+44;+1,GB;US,,,draft\n"
    'instagram,copyright_complaint,2024-03-15T10,Reporter,,,ACME Rights,"Removed, because: '
    'copyright",in_review\n'
)


def test_csv_round_trip(tmp_path, capsys):
    data = str(tmp_path / "d")
    src = tmp_path / "in.csv"
    src.write_text(GOOD_CSV, encoding="utf-8")
    assert main(["incidents", "import", str(src), "--data", data]) == 0
    assert "imported 2" in capsys.readouterr().out
    out = tmp_path / "out.csv"
    assert main(["incidents", "export", "--data", data, "-o", str(out)]) == 0
    data2 = str(tmp_path / "d2")
    assert main(["incidents", "import", str(out), "--data", data2]) == 0
    a = [i.to_dict() for i in list_incidents(tmp_path / "d")]
    b = [i.to_dict() for i in list_incidents(tmp_path / "d2")]
    for x, y in zip(a, b, strict=True):
        for key in (
            "incident_id",
            "platform",
            "type",
            "when",
            "precision",
            "prefixes",
            "country_codes",
            "complainant",
            "notice_text",
            "status",
            "person",
        ):
            assert x[key] == y[key], key
    assert a[0]["prefixes"] == ["+44", "+1"]


def test_json_round_trip(tmp_path, capsys):
    data = str(tmp_path / "d")
    src = tmp_path / "in.csv"
    src.write_text(GOOD_CSV, encoding="utf-8")
    assert main(["incidents", "import", str(src), "--data", data]) == 0
    capsys.readouterr()
    assert main(["incidents", "export", "--data", data, "--format", "json"]) == 0
    exported = capsys.readouterr().out
    path = tmp_path / "x.json"
    path.write_text(exported, encoding="utf-8")
    assert main(["incidents", "import", str(path), "--data", str(tmp_path / "d3")]) == 0
    assert len(json.loads(exported)) == len(list_incidents(tmp_path / "d3")) == 2


def test_broken_csv_names_each_row_and_imports_nothing(tmp_path, capsys):
    data = tmp_path / "d"
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "platform,type,when\n"
        "whatsapp,account_blocked,2024-03-14\n"
        "whatsapp,hacked,2024-03-14\n"
        "instagram,post_removed,14/03/2024\n"
        ",post_removed,2024-03-14\n"
        "whatsapp,account_blocked,2024-03-14,extra\n",
        encoding="utf-8",
    )
    assert main(["incidents", "import", str(bad), "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert "nothing imported" in err
    assert "more values than columns" in err
    assert list_incidents(data) == []
    bad.write_text(
        "platform,type,when\nwhatsapp,hacked,2024-03-14\ninstagram,post_removed,14/03/2024\n"
        ",post_removed,2024-03-14\n",
        encoding="utf-8",
    )
    assert main(["incidents", "import", str(bad), "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert "line 2: type" in err and "line 3: when" in err and "line 4: platform" in err
    assert list_incidents(data) == []


def test_unknown_columns_and_bad_json(tmp_path, capsys):
    data = str(tmp_path / "d")
    f = tmp_path / "a.csv"
    f.write_text("platform,kind,when\nwhatsapp,x,2024-01-01\n", encoding="utf-8")
    assert main(["incidents", "import", str(f), "--data", data]) == 2
    assert "unknown column" in capsys.readouterr().err
    j = tmp_path / "a.json"
    j.write_text(
        '[{"platform": "whatsapp", "type": "account_blocked", "when": "2024-01-01"},', "utf-8"
    )
    assert main(["incidents", "import", str(j), "--data", data]) == 2
    assert "not JSON" in capsys.readouterr().err
    j.write_text('[{"platform": "whatsapp", "type": "account_blocked", "when": "2024-01-01"}, 5]')
    assert main(["incidents", "import", str(j), "--data", data]) == 2
    assert "item 2" in capsys.readouterr().err
    assert list_incidents(tmp_path / "d") == []


def test_formula_cells_are_guarded_on_export(tmp_path, capsys):
    data = str(tmp_path / "d")
    assert (
        main(
            [
                "incidents",
                "add",
                "--data",
                data,
                "--platform",
                "instagram",
                "--type",
                "copyright_complaint",
                "--when",
                "2024-01-01",
                "--complainant",
                '=HYPERLINK("http://x")',
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["incidents", "export", "--data", data]) == 0
    out = capsys.readouterr().out
    assert ",'=HYPERLINK" in out or "\"'=HYPERLINK" in out
    path = tmp_path / "e.csv"
    path.write_text(out, encoding="utf-8")
    assert main(["incidents", "import", str(path), "--data", str(tmp_path / "d2")]) == 0
    (inc,) = list_incidents(tmp_path / "d2")
    assert inc.complainant == '=HYPERLINK("http://x")'


def test_export_to_an_impossible_path_is_a_user_error(tmp_path, capsys):
    target = tmp_path / "missing-dir" / "out.csv"
    assert main(["incidents", "export", "--data", str(tmp_path / "d"), "-o", str(target)]) == 2
    assert "cannot write" in capsys.readouterr().err
