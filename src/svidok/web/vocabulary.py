"""Values stored in English (statuses, kinds, roles) that pages show translated: each one
marked here so that message extraction finds it. A test keeps this list complete."""

from __future__ import annotations

from svidok.web.i18n import N_

WORDS = (
    # record kinds
    N_("case"),
    N_("item"),
    N_("incident"),
    N_("person"),
    N_("place"),
    N_("source"),
    # case status
    N_("open"),
    N_("closed"),
    N_("archived"),
    # item kinds
    N_("photo"),
    N_("video"),
    N_("audio"),
    N_("document"),
    N_("testimony"),
    N_("web capture"),
    N_("report"),
    N_("other"),
    # assessment
    N_("unverified"),
    N_("in review"),
    N_("verified"),
    N_("disputed"),
    N_("rejected"),
    # incident status
    N_("reported"),
    N_("under investigation"),
    N_("corroborated"),
    # person status and sex
    N_("alive"),
    N_("missing"),
    N_("deceased"),
    N_("injured"),
    N_("detained"),
    N_("displaced"),
    N_("unknown"),
    N_("female"),
    N_("male"),
    # roles
    N_("owner"),
    N_("investigator"),
    N_("reviewer"),
    N_("analyst"),
    N_("viewer"),
    # time precision
    N_("second"),
    N_("minute"),
    N_("hour"),
    N_("day"),
    N_("month"),
    N_("year"),
    N_("approximate"),
    # source types
    N_("organisation"),
    N_("publication"),
    # evidence access
    N_("view"),
    N_("download"),
    N_("thumbnail"),
    # kinds of preview (derivatives)
    N_("preview"),
    N_("keyframes"),
    N_("waveform"),
    # extraction outcome
    N_("complete"),
    N_("partial"),
    N_("failed"),
    N_("skipped"),
    # name kinds and scripts
    N_("primary"),
    N_("variant"),
    N_("transliteration"),
    N_("pseudonym"),
)
