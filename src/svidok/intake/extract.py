"""Metadata extraction from evidence files; a failed or partial extraction is data, not an error.

:func:`extract_in_process` reads one file in the calling process; :class:`ExtractorPool`
does the same in isolated, resource-limited worker processes and is what intake uses.
Both return an :class:`Extraction`, never raise for anything a file contains, and record
what went wrong in plain words in ``errors``.

Status
    ``complete``  the extractor for the media type ran and reported no problem;
    ``partial``   it ran, but something could not be read (see ``errors``);
    ``failed``    the file could not be read as its media type at all, or extraction was
                  stopped (time limit, memory allowance, crash);
    ``skipped``   there is no extractor for the media type (includes empty files).

Metadata schema (keys are omitted when the file does not provide the value)
    Every record: ``size_bytes`` (int); ``note`` (str) for skipped files and bounded
    text reads; ``truncated`` (list of str) when anything was cut to fit the bounds
    (strings 2000 characters, ``exif`` values 256, lists 64 items, dicts 256 keys,
    nesting 6 levels, whole record 64 Ki characters of JSON; see
    :mod:`svidok.intake.extract_model`). Errors: at most 32 messages of 500 characters.

    A *time object* is ``{"value", "raw", "offset", "note"?}``: ``value`` is RFC 3339 when
    the source gives an offset, otherwise a naive local ISO 8601 time with ``offset``
    None and ``note`` "no offset" (no timezone is ever invented); None if unparseable.
    A *position* is ``{"latitude", "longitude"}`` in decimal degrees (south and west
    negative, 7 decimals) with optional ``altitude`` in metres (negative below sea level).

    Images (Pillow; JPEG, PNG, TIFF, WebP, GIF, AVIF, ...; pixels never decoded):
        ``format``, ``width``, ``height``, ``mode``, ``dpi`` [x, y], ``icc_profile_bytes``,
        ``xmp_bytes``, ``image_data_complete`` (JPEG and PNG: the end marker is present;
        false means the file is probably truncated, an error says so); from EXIF:
        ``make``, ``model``, ``software``, ``artist``, ``copyright``,
        ``image_description``, ``lens_make``, ``lens_model``,
        ``body_serial_number``, ``orientation`` (1-8), ``datetime_original``,
        ``datetime_digitized``, ``datetime`` (time objects; OffsetTime* and SubSecTime*
        applied), ``gps`` (position plus ``timestamp`` time object in UTC,
        ``map_datum``, ``processing_method``, ``dop``), and ``exif``: every tag as a
        string, grouped ``{"IFD0"|"Exif"|"GPS"|"Interop"|"IFD1": {TagName: text}}``
        (unknown tags as ``0xNNNN``; binary values as ``hex:…``).
    HEIF/HEIC (own box parser, see :mod:`svidok.intake.extract_heif`): ``format``
        "HEIF", ``brand`` (ftyp major brand), ``width``, ``height`` (the primary item's
        ``ispe``), ``rotation`` (degrees anticlockwise, from ``irot``) and the EXIF fields
        above.
    Video and audio (PyAV/FFmpeg, imported on first use): ``container``,
        ``container_long_name``, ``duration`` (s), ``bit_rate`` (bit/s), ``stream_count``,
        ``streams`` [{``index``, ``type``,
        ``codec``, ``profile``, ``duration``, ``frames``, ``bit_rate``, ``width``,
        ``height``, ``frame_rate``, ``pixel_format``, ``sample_rate``, ``channels``,
        ``channel_layout``, ``tags``}], ``creation_time`` (time object, as the container
        states it, normally UTC), ``creation_date_local`` (Apple's local time with
        offset), ``make``, ``model``, ``software``, ``encoder``, ``title``, ``gps``
        (position from an ISO 6709 ``location`` / ``com.apple.quicktime.location.ISO6709``
        tag, plus ``raw`` and ``source`` tag name), ``tags`` (every container tag),
        ``decoder_messages`` (FFmpeg errors while probing).
    PDF (pypdf): ``pdf_version`` (header), ``catalog_version``, ``encrypted``,
        ``opened_without_password``, ``page_count`` (declared by the page-tree root;
        ``declared_page_count`` instead when implausible), ``has_xmp``, ``title``,
        ``author``, ``subject``, ``keywords``, ``creator``, ``producer``, ``trapped``,
        ``creation_date``, ``modification_date`` (time objects), ``parser_warnings``.
    Text (charset-normalizer; first 1 MiB only): ``encoding``, ``bom`` (e.g. "UTF-8" or
        None), ``line_endings`` ("LF", "CRLF", "CR", "mixed", "none"),
        ``line_ending_counts``, ``lines``, ``characters``, ``examined_bytes``,
        ``complete`` (false if the file is longer than what was examined),
        ``undecodable_bytes``, ``scripts`` (share of letters per script),
        ``cyrillic_language_hint`` ("uk" or "ru").
"""

from __future__ import annotations

from svidok.intake.extract_core import extract_in_process
from svidok.intake.extract_model import Extraction, JSONValue, Status, extractor_name
from svidok.intake.extract_pool import ExtractorPool

__all__ = [
    "Extraction",
    "ExtractorPool",
    "JSONValue",
    "Status",
    "extract_in_process",
    "extractor_name",
]
