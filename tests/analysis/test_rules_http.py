from __future__ import annotations

from tests.analysis.builders import PAGE, make_wc
from tests.analysis.conftest import check

from ashyq.analysis.observations import http_obs
from ashyq.analysis.verdict import judge

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


def test_blockpage_header_fingerprint(ctx):
    v = judge(
        make_wc(
            "http://vlast.kz/", body="<html>blocked</html>", headers={"X-Blocked-By": "KZ Ministry"}
        ),
        context=ctx,
    )
    assert v.method == "http.blockpage:ashyq.kz_restricted_header"


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
