from __future__ import annotations

from tests.analysis.builders import PAGE, make_wc
from tests.analysis.conftest import check

from ashyq.analysis.fingerprints import load_fingerprints
from ashyq.analysis.observations import http_obs
from ashyq.analysis.verdict import JudgeContext, judge

KZ_BLOCKPAGE = (
    "<html><head><title>Доступ ограничен</title></head><body>Доступ к ресурсу ограничен "
    "по решению уполномоченного органа Республики Казахстан</body></html>"
)


def test_http_reset_while_control_succeeds(ctx):
    v = judge(make_wc("http://vlast.kz/", http_failure="connection_reset"), context=ctx)
    check(v)
    assert (v.status, v.method, v.ooni_blocking, v.ooni_accessible) == (
        "blocked",
        "http.reset",
        "http-failure",
        False,
    )


def test_http_timeout_without_response(ctx):
    v = judge(
        make_wc("http://vlast.kz/", http_failure="generic_timeout_error", status=0), context=ctx
    )
    check(v)
    assert (v.status, v.method) == ("blocked", "http.timeout")


def test_http_failure_for_everyone_is_down(ctx):
    v = judge(
        make_wc(
            "http://vlast.kz/",
            http_failure="connection_reset",
            control_http_failure="connection_reset",
        ),
        context=ctx,
    )
    assert (v.status, v.ooni_blocking, v.ooni_accessible) == ("down", False, False)


def test_kazakh_blockpage_by_our_fingerprint(ctx):
    for title in ("Доступ ограничен", "Access restricted", "Қолжетімділік шектелген"):
        body = KZ_BLOCKPAGE.replace("Доступ ограничен", title)
        v = judge(make_wc("http://vlast.kz/", body=body, headers={}), context=ctx)
        check(v)
        assert (v.status, v.method, v.ooni_blocking) == (
            "blocked",
            "http.blockpage:ashyq.kz_restricted",
            "http-diff",
        )
        assert v.details["confirmed"] is True and v.confidence == 1.0
        assert any(title in e for e in v.evidence)


def test_kazakh_blockpage_fingerprint_is_scoped_to_kazakhstan(ctx):
    page = "<html><head><title>Access restricted</title></head><body>403</body></html>"
    kz = judge(make_wc("http://shop.example/", body=page, status=403), context=ctx)
    assert kz.method == "http.blockpage:ashyq.kz_restricted"
    # the same words from a site's own page elsewhere are no Kazakh blockpage
    us = judge(make_wc("http://shop.example/", body=page, status=403, cc="US"), context=ctx)
    assert us.method != "http.blockpage:ashyq.kz_restricted"


def test_generic_fingerprint_needs_a_control(tmp_path):
    (tmp_path / "generic.csv").write_text(
        "name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,"
        "expected_countries,source,exp_url,notes\n"
        "test.generic,nat,,body,contains,Access Denied,3,,test,,a generic pattern\n"
    )
    db = load_fingerprints([tmp_path])
    page = "<html><head><title>Oops</title></head><body>Access Denied</body></html>"
    m = make_wc("http://shop.example/", body=page, status=403, control_title="Shop")
    beside_control = judge(m, context=JudgeContext(fingerprints=db))
    assert beside_control.method == "http.blockpage:test.generic"
    assert beside_control.details["confirmed"] is False
    alone = judge(
        make_wc("http://shop.example/", body=page, status=403, control=False),
        context=JudgeContext(fingerprints=db),
    )
    assert alone.status == "inconclusive"


def test_http_diff_like_ooni(ctx):
    v = judge(
        make_wc(
            "http://vlast.kz/", body="<html><title>Oops</title>nope</html>", headers={}, status=403
        ),
        context=ctx,
    )
    check(v)
    assert (v.status, v.method, v.ooni_blocking) == ("blocked", "http.diff", "http-diff")
    assert any("status 403 where the control got 200" in e for e in v.evidence)
    assert v.details["status_code_match"] is False


def test_guard_challenge_page(ctx):
    body = "<html><head><title>Just a moment...</title></head><body>cf-chl-opt</body></html>"
    v = judge(make_wc("http://vlast.kz/", body=body, headers={}, status=403), context=ctx)
    check(v)
    assert (v.status, v.method, v.ooni_blocking) == ("inconclusive", "http.challenge", None)


def test_guard_redirect_to_login_or_regional_mirror(ctx):
    for final in ("https://vlast.kz/login?next=/", "https://kz.vlast.kz/"):
        v = judge(
            make_wc(
                "http://vlast.kz/",
                chain=["http://vlast.kz/", final],
                body="<html><title>Sign in</title>form</html>",
                headers={},
            ),
            context=ctx,
        )
        check(v)
        assert v.status == "ok" and v.details["guard"] == "redirect", final
    # a redirect to another site is not covered by the guard
    v = judge(
        make_wc(
            "http://vlast.kz/",
            chain=["http://vlast.kz/", "http://block.example/"],
            body="<html><title>Stop</title>x</html>",
            headers={},
        ),
        context=ctx,
    )
    assert (v.status, v.method) == ("blocked", "http.diff")


def test_guard_page_larger_than_the_controls(ctx):
    v = judge(
        make_wc("http://vlast.kz/", body=PAGE * 3, headers={}, control_title="Other"), context=ctx
    )
    check(v)
    assert v.status == "ok" and v.details["guard"] == "dynamic"


def test_control_failure_with_https_success_is_ok_but_http_is_inconclusive(ctx):
    v = judge(make_wc(control=False, control_failure="connection_reset"), context=ctx)
    check(v)
    assert (v.status, v.ooni_accessible) == ("ok", True)
    v2 = judge(
        make_wc("http://vlast.kz/", control=False, control_failure="connection_reset"), context=ctx
    )
    assert (v2.status, v2.method, v2.ooni_blocking) == ("inconclusive", "control.failure", None)


def test_body_size_is_counted_in_bytes_like_the_controls():
    # A Cyrillic page: each letter is two bytes in UTF-8, as the control counts it.
    page = "<html><head><title>Власть</title></head><body>" + "новости дня " * 400 + "</body>"
    size = len(page.encode("utf-8"))
    m = make_wc("http://vlast.kz/", body=page, control_body_length=size, control_title="Власть")
    tk = m["test_keys"]
    assert http_obs(tk).body_length == size
    tk["requests"][0]["response"]["x_body_length"] = size + 7  # the probe's own byte count wins
    assert http_obs(tk).body_length == size + 7
    assert judge(m).status == "ok"
