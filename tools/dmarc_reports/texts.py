# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""What the report codes mean, in one table per family (as core's
``sms_api``); worded in the reader's language by the model layer."""

from odoo.tools.translate import LazyTranslate

from ..reason_texts import word
from . import limits as lim
from . import sources

_lt = LazyTranslate(__name__)

REFUSAL_TEXTS = {
    lim.TOO_LARGE: _lt(
        "the attachment has %(size)s bytes, more than the %(limit)s bytes allowed"
    ),
    lim.DECOMPRESSED_TOO_LARGE: _lt(
        "decompressed, the attachment is larger than %(limit)s bytes"
    ),
    lim.RATIO: _lt(
        "the attachment grows %(ratio)s times when decompressed (at most "
        "%(limit)s): a zip bomb"
    ),
    lim.ARCHIVE_MEMBERS: _lt(
        "the archive holds %(count)s files; a report archive holds one"
    ),
    lim.ARCHIVE_BROKEN: _lt("the archive cannot be read: %(error)s"),
    lim.ARCHIVE_EMPTY: _lt("the archive is empty"),
    lim.XML_DTD: _lt(
        "the XML declares a document type or entities, which reports never do "
        "(external entities, entity expansion)"
    ),
    lim.XML_DEPTH: _lt("the document is nested deeper than %(limit)s levels"),
    lim.XML_SYNTAX: _lt("the XML is malformed: %(error)s"),
    lim.TOO_MANY_RECORDS: _lt("the report has more than %(limit)s records"),
    lim.NOT_A_REPORT: _lt("the attachment is neither a DMARC nor a TLS report"),
    lim.MISSING_FIELD: _lt("the report has no %(field)s"),
    lim.BAD_VALUE: _lt("the report's %(field)s is not valid: %(value)s"),
    lim.JSON_SYNTAX: _lt("the JSON is malformed: %(error)s"),
}

IGNORE_TEXTS = {
    sources.IGNORE_FOREIGN_DOMAIN: _lt(
        "the report is about %(domain)s, which is neither an alias domain nor a "
        "sending domain of this database"
    ),
    sources.IGNORE_DUPLICATE: _lt("the same report was received before"),
    "no_attachment": _lt("the mail has no report attached"),
    "store_error": _lt("the report could not be stored: %(error)s"),
}

FLAG_TEXTS = {
    sources.FLAG_UNKNOWN_PASSES: _lt(
        "an unknown source passes DMARC as this domain: a sender to add to "
        "the outgoing servers' sending addresses, or a forgery that works"
    ),
    sources.FLAG_OWN_FAILS: _lt("one of Odoo's own servers fails DMARC"),
}


def refusal_text(code, params, env=None):
    """The refusal's (or ignored report's) text in ``env``'s language, in
    English without one; the code itself for an unknown code."""
    text = REFUSAL_TEXTS.get(code) or IGNORE_TEXTS.get(code)
    if text is None:
        return code
    return word(text, params or {}, env)
