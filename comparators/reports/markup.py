"""The one escaping helper for user text that reaches Markdown (on screen or in a document).

User text - URL values, file names, cohort labels, study ids, notes - must read exactly as typed
and never format, link, embed or colour anything. Streamlit renders Markdown with GitHub's
extensions (tables, strikethrough, bare-URL autolinks), maths (`$`), HTML (escaped, but still),
colour and badge directives (`:red[...]`, `:blue-background[...]`), Material icons
(`:material/warning:`) and emoji shortcodes (`:smile:`). Every construct below is defused with a
CommonMark backslash escape (any ASCII punctuation may be escaped and then shows as itself), so
the text renders unchanged while the raw Markdown of an exported document stays readable:

- emphasis, code, maths, strikethrough and table characters: `\\ ` * $ ~ |` everywhere, `_`
  unless it sits between two letters or digits (where it cannot emphasise);
- links and images: every `[` and `]` (so neither `[t](u)` nor `![t](u)` nor `:red[...]` forms);
- HTML and `<url>` autolinks: `<` before a letter, `/`, `!` or `?`;
- directives, icons and emoji shortcodes: a `:` directly followed by a letter, digit or `/`;
- bare-URL autolinks (`http://…`, `www.…`, `name@host`): GitHub's autolink-literal extension
  runs on the text *after* escapes are resolved, so a backslash cannot stop it; an invisible
  WORD JOINER (U+2060) is put before the `:` of a scheme, the `.` of `www.` and every `@`,
  which breaks the pattern and leaves the text looking unchanged (checked in Chromium);
- block syntax at the start (headings, quotes, lists): `#`, `>`, `+`, `-`, `1.`;
- line breaks become spaces, so no text can start a new block.

Pure standard library, so the entry point's sidebar (views/share.py) can use it cheaply.
"""

from __future__ import annotations

import re

_INLINE = re.compile(r"([\\`*$~|\[\]])")
# `_` between two letters or digits can neither open nor close emphasis (CommonMark's flanking
# rules), so "my_cohort.csv" stays readable; every other `_` is escaped.
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
_HTML = re.compile(r"<(?=[A-Za-z/!?])")
_COLON = re.compile(r":(?=[A-Za-z0-9/])")  # scheme:, :red[, :material/…:, :smile:
_SCHEME = re.compile(r"(?i)\b(https?|ftp|mailto|xmpp)(?=:)")  # the autolinked schemes
_WWW = re.compile(r"(?i)\b(www)\.")
JOINER = "\u2060"  # WORD JOINER: invisible, breaks autolink patterns


_INLINE_DOC = re.compile(r"([\\`*_$~|])")
_LINK_DOC = re.compile(r"(\])(?=[(\[])|(!)(?=\[)")  # "](" / "][" close a link; "![" opens an image
_COLON_DOC = re.compile(r"(?i)\b(https?|ftp|mailto):")  # the schemes GFM autolinks


def md_escape(text: object, document: bool = False) -> str:
    """`text` as literal Markdown: shows as typed, never as a link, image, colour or HTML.

    E.g. ``[Click here](http://x.io) :red[**alert**]`` becomes
    ``\\[Click here\\](http\\://x.io) \\:red\\[\\*\\*alert\\*\\*\\]``.

    ``document=True`` is for a Markdown file read by CommonMark/GFM renderers, which know no
    Streamlit directives: only what can format, link or embed there is escaped, so a reference
    list reads "[1–3]" and "doi:10.1038/…" in the raw file, not "\\[1–3\\]" and "doi\\:".
    """
    out = str(text).replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    if document:
        out = _INLINE_DOC.sub(r"\\\1", out)
        out = _LINK_DOC.sub(lambda m: "\\" + m.group(0), out)
        out = _HTML.sub(r"\\<", out)
        out = _COLON_DOC.sub(r"\1\\:", out)
        out = _WWW.sub(r"\1\\.", out)
        out = re.sub(r"^(\s*)([#>+-])", r"\1\\\2", out)
        return re.sub(r"^(\s*\d+)([.)])(?=\s|$)", r"\1\\\2", out)
    out = _INLINE.sub(r"\\\1", out)
    out = _UNDERSCORE.sub(r"\\_", out)
    out = _HTML.sub(r"\\<", out)
    out = _SCHEME.sub(lambda m: m.group(1) + JOINER, out)
    out = _COLON.sub(r"\\:", out)
    out = _WWW.sub(lambda m: m.group(1) + JOINER + "\\.", out)
    out = out.replace("@", JOINER + "\\@")
    out = re.sub(r"^(\s*)([#>+-])", r"\1\\\2", out)
    out = re.sub(r"^(\s*\d+)([.)])(?=\s|$)", r"\1\\\2", out)  # "1. " lists, not "71.4"
    return out
