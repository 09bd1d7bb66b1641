# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Fast tests of the pure filter grammar (no database)."""

from odoo.tests import BaseCase, tagged

from odoo.addons.mail_routing_policy.tools import address_filter as af
from odoo.addons.mail_routing_policy.tools.outgoing import sender_policy as sp

NORMALIZED = [
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
]

INVALID = [
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
]


@tagged("post_install", "-at_install", "mail_routing_policy")
class TestAddressFilter(BaseCase):
    def test_normalize(self):
        for raw, expected in NORMALIZED:
            with self.subTest(raw=raw):
                assert af.normalize_filter(raw) == expected

    def test_invalid_entries_are_named(self):
        for raw, bad in INVALID:
            with self.subTest(raw=raw):
                with self.assertRaises(af.AddressFilterError) as info:
                    af.normalize_filter(raw)
                assert info.exception.entry.strip() == bad.strip()
                assert repr(bad.strip()) in str(info.exception)

    def test_match_tiers(self):
        entries = af.parse_filter(
            "ann@example.com, example.com, *.example.com, *.eu.example.com"
        )
        assert af.match_address(entries, "ANN@Example.COM").tier == af.TIER_ADDRESS
        assert af.match_address(entries, "bob@example.com").tier == af.TIER_DOMAIN
        found = af.match_address(entries, "bob@mail.eu.example.com")
        assert found.tier == af.TIER_WILDCARD
        assert found.entry.value == "eu.example.com", "longest wildcard wins"
        assert af.match_address(entries, "bob@a.b.example.com").tier == af.TIER_WILDCARD
        assert af.match_address(entries, "bob@example.org") is None
        assert af.match_address(entries, "bob@notexample.com") is None

    def test_wildcard_excludes_apex(self):
        entries = af.parse_filter("*.example.com")
        assert af.match_address(entries, "x@example.com") is None
        assert af.match_address(entries, "x@deep.sub.example.com")

    def test_idn_both_sides(self):
        entries = af.parse_filter("xn--bcher-kva.example")
        assert af.match_address(entries, "info@bücher.example").tier == af.TIER_DOMAIN
        entries = af.parse_filter("bücher.example")
        assert (
            af.match_address(entries, "info@XN--BCHER-KVA.example").tier
            == af.TIER_DOMAIN
        )
        assert af.match_domain(
            af.parse_filter("*.bücher.example"), "mail.xn--bcher-kva.example"
        )

    def test_rank_candidates_order(self):
        candidates = [
            ("wide", af.parse_filter("*.example.com")),
            ("narrow", af.parse_filter("*.eu.example.com")),
            ("other-narrow", af.parse_filter("*.eu.example.com")),
        ]
        tier, ranked = af.rank_candidates(candidates, "a@x.eu.example.com")
        assert tier == af.TIER_WILDCARD
        assert [key for key, _m in ranked] == ["narrow", "other-narrow", "wide"]
        tier, ranked = af.rank_candidates(
            candidates + [("exact", af.parse_filter("x.eu.example.com"))],
            "a@x.eu.example.com",
        )
        assert tier == af.TIER_DOMAIN and [key for key, _m in ranked] == ["exact"]
        assert af.rank_candidates(candidates, "a@example.org") == (None, [])

    def test_resolve_default_from(self):
        assert (
            sp.resolve_default_from("notifications", "example.com")
            == "notifications@example.com"
        )
        assert (
            sp.resolve_default_from("News@Other.org", "example.com") == "news@other.org"
        )
        assert sp.resolve_default_from("notifications", False) is False
        assert sp.resolve_default_from("", "example.com") is False

    def test_rewrite_from_keeps_name_and_formats(self):
        assert sp.rewrite_from(
            '"Ann Author" <ann@gmail.com>', "notifications@example.com"
        ) == ('"Ann Author" <notifications@example.com>')
        assert (
            sp.rewrite_from('"Doe, Ann" <ann@gmail.com>', "n@example.com")
            == '"Doe, Ann" <n@example.com>'
        )
        assert (
            sp.rewrite_from("ann@gmail.com", "n@example.com") == '"ann" <n@example.com>'
        )
        assert sp.rewrite_from(
            "Ann <ann@gmail.com>", "n@example.com", "{name} via {company}", "ACME"
        ) == ('"Ann via ACME" <n@example.com>')
        with self.assertRaises(ValueError):
            sp.validate_display_format("{name} {email}")

    def test_choose_envelope_sender_order_of_preference(self):
        bounce, default = "bounce@example.com", "n@example.com"
        entries = af.parse_filter("example.com")
        assert sp.choose_envelope_sender(entries, bounce, "ann@gmail.com", default) == (
            bounce,
            sp.ENVELOPE_BOUNCE,
        )
        other = "bounce@other.com"
        assert sp.choose_envelope_sender(
            entries, other, "ann@example.com", default
        ) == (
            "ann@example.com",
            sp.ENVELOPE_AUTHOR,
        )
        assert sp.choose_envelope_sender(entries, other, "ann@gmail.com", default) == (
            default,
            sp.ENVELOPE_DEFAULT,
        )
        assert sp.choose_envelope_sender(
            entries, other, "ann@gmail.com", "n@x.com"
        ) == (
            "bounce@example.com",
            sp.ENVELOPE_BUILT,
        )
        assert sp.choose_envelope_sender((), other, "ann@gmail.com", default) == (
            other,
            sp.ENVELOPE_BOUNCE,
        )

    def test_envelope_sender_is_never_another_persons_listed_address(self):
        entries = af.parse_filter("*.example.org, ann@gmail.com")
        for author in ("bob@gmail.com", "someone@mail.example.com"):
            address, code = sp.choose_envelope_sender(
                entries, "bounce@mycompany.example", author, "n@mycompany.example"
            )
            assert (
                address == "bounce@mycompany.example" and code == sp.ENVELOPE_UNALLOWED
            )
        # the listed person's own mail may use it
        assert sp.choose_envelope_sender(
            entries, "bounce@mycompany.example", "ann@gmail.com", False
        )[0] == ("ann@gmail.com")
        # a domain entry gives an address of its own
        entries = af.parse_filter("ann@gmail.com, relay.example")
        assert sp.choose_envelope_sender(
            entries, "bounce@mycompany.example", "bob@gmail.com", False
        ) == (
            "bounce@relay.example",
            sp.ENVELOPE_BUILT,
        )

    def test_server_from_every_cell(self):
        author_ok, author_no = "ann@corp.example", "ann@gmail.com"
        default = "n@mycompany.example"
        both = af.parse_filter("corp.example, mycompany.example")
        only_author = af.parse_filter("corp.example")
        only_default = af.parse_filter("mycompany.example")
        neither = af.parse_filter("other.example")
        assert sp.server_from(both, author_ok, default) == (sp.FROM_AUTHOR, author_ok)
        assert sp.server_from(only_author, author_ok, default) == (
            sp.FROM_AUTHOR,
            author_ok,
        )
        assert sp.server_from(only_default, author_no, default) == (
            sp.FROM_DEFAULT,
            default,
        )
        assert sp.server_from(neither, author_no, default) == (
            sp.FROM_DEFAULT_REFUSED,
            default,
        )
        assert sp.server_from(neither, author_no, default, sp.POLICY_BLOCK) == (
            sp.FROM_BLOCKED,
            False,
        )
        assert sp.server_from(neither, author_no, False) == (
            sp.FROM_NO_DEFAULT,
            author_no,
        )
        assert sp.server_from((), author_no, default) == (
            sp.FROM_AUTHOR,
            author_no,
        ), "no filter: any sender"

    def test_dmarc_alignment_claims_only_declared_domains(self):
        aligned, code, domain = sp.dmarc_alignment(
            "n@example.com", "bounce@example.com", af.parse_filter("example.com")
        )
        assert aligned and code == sp.DMARC_BOTH and domain == "example.com"
        # a server without FROM filter declares nothing: never "aligned"
        assert sp.dmarc_alignment("bob@gmail.com", "bounce@gmail.com", ())[:2] == (
            False,
            sp.DMARC_NOT_DECLARED,
        )
        aligned, code, domain = sp.dmarc_alignment(
            "ann@gmail.com", "bounce@example.com", af.parse_filter("example.com")
        )
        assert (aligned, code, domain) == (False, sp.DMARC_FAILS, "gmail.com")
        assert sp.dmarc_alignment(
            "n@example.com", "b@mail.example.com", af.parse_filter("*.example.com")
        )[1] == (sp.DMARC_SPF)
        assert (
            sp.dmarc_alignment("not an address", "b@x.com", ())[1] == sp.DMARC_NO_FROM
        )

    def test_errors_carry_codes_for_translation(self):
        with self.assertRaises(af.AddressFilterError) as info:
            af.parse_filter("good.com, exa mple.com")
        assert (info.exception.entry, info.exception.code) == (
            "exa mple.com",
            "domain_spaces",
        )
        with self.assertRaises(af.InputError) as info:
            sp.validate_default_from("two words")
        assert info.exception.code == "default_from_syntax"
