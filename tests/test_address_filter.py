"""Fast tests of the pure filter grammar (no database)."""

import pytest

from odoo.addons.mail_routing_policy.tools import address_filter as af
from odoo.addons.mail_routing_policy.tools import sender_policy as sp


@pytest.mark.parametrize(
    "raw, expected",
    [
        (" Example.COM , ann@Example.com", "example.com,ann@example.com"),
        (".Sub.Example.com", "*.sub.example.com"),
        ("*.example.com,*.example.com", "*.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("XN--BCHER-KVA.example", "xn--bcher-kva.example"),
        ("info@bücher.example", "info@xn--bcher-kva.example"),
        ("localhost", "localhost"),
        # real DNS names carry "_" and core accepts them
        ("Test_2.com, *.mail_out.example", "test_2.com,*.mail_out.example"),
        ("", False),
        (" , ", False),
    ],
)
def test_normalize(raw, expected):
    assert af.normalize_filter(raw) == expected


@pytest.mark.parametrize(
    "raw, bad",
    [
        ("foo@", "foo@"),
        ("example.com, @bar", "@bar"),
        ("exa mple.com", "exa mple.com"),
        ("*.com", "*.com"),
        ("ok.com,bad\r\nX-Header: x", "bad\r\nX-Header: x"),
        ("a@*.example.com", "a@*.example.com"),
        ("ex*ample.com", "ex*ample.com"),
        ("-bad.example.com", "-bad.example.com"),
        ("_bad.example.com", "_bad.example.com"),
        ("xn--zz.example.com", "xn--zz.example.com"),
        ("a b@example.com", "a b@example.com"),
    ],
)
def test_invalid_entries_are_named(raw, bad):
    with pytest.raises(af.AddressFilterError) as info:
        af.normalize_filter(raw)
    assert info.value.entry.strip() == bad.strip()
    assert repr(bad.strip()) in str(info.value)


def test_match_tiers():
    entries = af.parse_filter("ann@example.com, example.com, *.example.com, *.eu.example.com")
    assert af.match_address(entries, "ANN@Example.COM").tier == af.TIER_ADDRESS
    assert af.match_address(entries, "bob@example.com").tier == af.TIER_DOMAIN
    found = af.match_address(entries, "bob@mail.eu.example.com")
    assert found.tier == af.TIER_WILDCARD
    assert found.entry.value == "eu.example.com", "longest wildcard wins"
    assert af.match_address(entries, "bob@a.b.example.com").tier == af.TIER_WILDCARD
    assert af.match_address(entries, "bob@example.org") is None
    assert af.match_address(entries, "bob@notexample.com") is None


def test_wildcard_excludes_apex():
    entries = af.parse_filter("*.example.com")
    assert af.match_address(entries, "x@example.com") is None
    assert af.match_address(entries, "x@deep.sub.example.com")


def test_idn_both_sides():
    entries = af.parse_filter("xn--bcher-kva.example")
    assert af.match_address(entries, "info@bücher.example").tier == af.TIER_DOMAIN
    entries = af.parse_filter("bücher.example")
    assert af.match_address(entries, "info@XN--BCHER-KVA.example").tier == af.TIER_DOMAIN
    assert af.match_domain(af.parse_filter("*.bücher.example"), "mail.xn--bcher-kva.example")


def test_rank_candidates_order():
    candidates = [
        ("wide", af.parse_filter("*.example.com")),
        ("narrow", af.parse_filter("*.eu.example.com")),
        ("other-narrow", af.parse_filter("*.eu.example.com")),
    ]
    tier, ranked = af.rank_candidates(candidates, "a@x.eu.example.com")
    assert tier == af.TIER_WILDCARD
    assert [key for key, _m in ranked] == ["narrow", "other-narrow", "wide"]
    tier, ranked = af.rank_candidates(
        candidates + [("exact", af.parse_filter("x.eu.example.com"))], "a@x.eu.example.com"
    )
    assert tier == af.TIER_DOMAIN and [key for key, _m in ranked] == ["exact"]
    assert af.rank_candidates(candidates, "a@example.org") == (None, [])


def test_resolve_default_from():
    assert sp.resolve_default_from("notifications", "example.com") == "notifications@example.com"
    assert sp.resolve_default_from("News@Other.org", "example.com") == "news@other.org"
    assert sp.resolve_default_from("notifications", False) is False
    assert sp.resolve_default_from("", "example.com") is False


def test_rewrite_from_keeps_name_and_formats():
    assert sp.rewrite_from('"Ann Author" <ann@gmail.com>', "notifications@example.com") == (
        '"Ann Author" <notifications@example.com>'
    )
    assert sp.rewrite_from('"Doe, Ann" <ann@gmail.com>', "n@example.com") == '"Doe, Ann" <n@example.com>'
    assert sp.rewrite_from("ann@gmail.com", "n@example.com") == '"ann" <n@example.com>'
    assert sp.rewrite_from("Ann <ann@gmail.com>", "n@example.com", "{name} via {company}", "ACME") == (
        '"Ann via ACME" <n@example.com>'
    )
    with pytest.raises(ValueError):
        sp.validate_display_format("{name} {email}")


def test_choose_envelope_sender():
    entries = af.parse_filter("example.com")
    assert sp.choose_envelope_sender(entries, ["bounce@example.com", "n@example.com"])[0] == "bounce@example.com"
    assert sp.choose_envelope_sender(entries, ["bounce@other.com", "n@example.com"])[0] == "n@example.com"
    assert sp.choose_envelope_sender(entries, ["bounce@other.com", "ann@gmail.com"], "bounce")[0] == (
        "bounce@example.com"
    )
    only_address = af.parse_filter("relay@example.com")
    assert sp.choose_envelope_sender(only_address, ["b@other.com"])[0] == "relay@example.com"
    assert sp.choose_envelope_sender((), ["b@other.com"])[0] == "b@other.com"


def test_dmarc_alignment():
    assert sp.dmarc_alignment("n@example.com", "bounce@example.com", af.parse_filter("example.com"))[0]
    assert sp.dmarc_alignment("n@example.com", "bounce@mail.example.com", ())[0]
    aligned, why = sp.dmarc_alignment("ann@gmail.com", "bounce@example.com", af.parse_filter("example.com"))
    assert not aligned and "gmail.com" in why
