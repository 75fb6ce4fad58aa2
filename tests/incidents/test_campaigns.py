"""Campaigns: the WhatsApp case, a copyright-complaint wave, and incidents that stay apart."""

from __future__ import annotations

import json

from ashyq.cli import main
from ashyq.incidents.campaigns import find_campaigns, jaccard, shingles
from ashyq.incidents.model import incident_from_fields
from ashyq.incidents.registry import add_incidents

NOTICE = (
    "We removed your post because it infringes the copyright of another party. "
    "Repeated infringements may lead to your account being disabled. Complaint reference {n}."
)


def whatsapp_case():
    """Seven journalists' WhatsApp accounts blocked on one day after foreign messages."""
    out = []
    for k, (hour, numbers) in enumerate(
        [
            (6, ["+44 7700 900001"]),
            (7, ["+44 7700 900002", "+1 202 555 0101"]),
            (9, ["+1 202 555 0102"]),
            (10, ["+44 7700 900003"]),
            (12, ["+44 7700 900004"]),
            (15, ["+1 202 555 0103", "+44 7700 900005"]),
            (18, ["+44 7700 900006"]),
        ]
    ):
        out.append(
            incident_from_fields(
                {
                    "incident_id": f"wa-{k}",
                    "platform": "WhatsApp",
                    "type": "account_blocked",
                    "when": f"2024-03-14T{hour:02d}",
                    "numbers": numbers,
                    "person": f"Journalist {k}",
                    "outlet": "Outlet",
                }
            )
        )
    return out


def unrelated():
    return [
        # same day and prefix, but another platform
        incident_from_fields(
            {
                "incident_id": "tg-1",
                "platform": "telegram",
                "type": "account_blocked",
                "when": "2024-03-14T08",
                "prefixes": ["+44"],
            }
        ),
        # same platform and prefix, but a month later
        incident_from_fields(
            {
                "incident_id": "wa-late",
                "platform": "whatsapp",
                "type": "account_blocked",
                "when": "2024-04-20",
                "prefixes": ["+44"],
            }
        ),
        # same platform and day, but no shared indicator
        incident_from_fields(
            {
                "incident_id": "wa-other",
                "platform": "whatsapp",
                "type": "locked_out",
                "when": "2024-03-14T11",
                "prefixes": ["+998"],
            }
        ),
        # same platform, day and prefix, but a content takedown, not an account attack
        incident_from_fields(
            {
                "incident_id": "wa-post",
                "platform": "whatsapp",
                "type": "post_removed",
                "when": "2024-03-14T11",
                "prefixes": ["+44"],
            }
        ),
    ]


def test_whatsapp_case_is_one_campaign_and_others_stay_apart():
    found = find_campaigns(whatsapp_case() + unrelated())
    assert len(found) == 1
    (c,) = found
    assert c.platform == "whatsapp"
    assert c.members == sorted(f"wa-{k}" for k in range(7))
    assert c.shared["prefixes"]["+44"] == 6
    assert c.shared["country_codes"]["US"] == 3
    assert c.start == "2024-03-14T06:00:00Z" and c.end == "2024-03-14T19:00:00Z"
    assert all(link["shared"] for link in c.links)


def test_window_splits_a_long_chain():
    found = find_campaigns(whatsapp_case(), window_hours=1)
    sizes = sorted(len(c.members) for c in found)
    assert sum(sizes) < 7  # hours apart with no bridge: not all one campaign


def test_copyright_wave_by_notice_text_and_complainant():
    items = [
        incident_from_fields(
            {
                "incident_id": f"ig-{n}",
                "platform": "instagram",
                "type": "copyright_complaint",
                "when": f"2024-06-0{n}",
                "notice_text": NOTICE.format(n=1000 + n),
            }
        )
        for n in range(1, 4)
    ]
    items.append(
        incident_from_fields(
            {
                "incident_id": "ig-c",
                "platform": "instagram",
                "type": "post_removed",
                "when": "2024-06-02",
                "complainant": "Rights Ltd.",
            }
        )
    )
    items.append(
        incident_from_fields(
            {
                "incident_id": "ig-d",
                "platform": "instagram",
                "type": "post_removed",
                "when": "2024-06-02",
                "complainant": "rights ltd",
            }
        )
    )
    items.append(
        incident_from_fields(
            {
                "incident_id": "ig-x",
                "platform": "instagram",
                "type": "post_removed",
                "when": "2024-06-02",
                "notice_text": "Your post goes against our community guidelines on nudity.",
            }
        )
    )
    found = find_campaigns(items, window_hours=72)
    groups = sorted(c.members for c in found)
    assert groups == [["ig-1", "ig-2", "ig-3"], ["ig-c", "ig-d"]]
    notice_group = next(c for c in found if "ig-1" in c.members)
    assert all(link["shared"]["notice_similarity"] >= 0.8 for link in notice_group.links)


def test_shingle_similarity():
    a = shingles(NOTICE.format(n=1))
    assert jaccard(a, shingles(NOTICE.format(n=2))) >= 0.8
    assert jaccard(a, shingles("Something else entirely was said here today.")) < 0.1


def test_campaigns_cli(tmp_path, capsys):
    data = tmp_path / "d"
    add_incidents(data, whatsapp_case() + unrelated())
    assert main(["incidents", "campaigns", "--data", str(data), "--format", "json"]) == 0
    (c,) = json.loads(capsys.readouterr().out)
    assert c["size"] == 7
    assert main(["incidents", "campaigns", "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "whatsapp" in out and "+44" in out
