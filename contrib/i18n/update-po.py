#!/usr/bin/env python3
"""Regenerate po/rsmtp.pot from the messages in crates/ (tr!("…"), tr_in!(lang, "…"),
trn_in!(lang, "… one", "… many", n) and tr_noop!("…"), in rsmtp and backup-alert
alike), and bring every
po/LL.po in line with it: new messages are added with an empty msgstr (to translate),
messages no longer in the code are removed, translations are kept.

    python3 contrib/i18n/update-po.py        # from the repository root

The integration tests (crates/rsmtp/tests/i18n.rs) fail until every msgstr is filled in."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The file that defines tr! (its doc and tests use made-up messages) and the test
# that scans for it (it holds `tr!(` in strings).
SKIPPED = {
    os.path.join("crates", "rsmtp-core", "src", "i18n.rs"),
    os.path.join("crates", "rsmtp", "tests", "i18n.rs"),
}
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'", "0": "\0"}


def rust_string(src, i):
    """The value of the Rust string literal starting at src[i] == '"', and its end."""
    assert src[i] == '"'
    i += 1
    out = []
    while True:
        c = src[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\":
            n = src[i + 1]
            if n == "\n":
                i += 2
                while src[i] in " \t\n":
                    i += 1
                continue
            if n == "u":
                end = src.index("}", i)
                out.append(chr(int(src[i + 3 : end], 16)))
                i = end + 1
                continue
            out.append(ESCAPES[n])
            i += 2
            continue
        out.append(c)
        i += 1


# The macros and where their English starts: tr!("…") and tr_noop!("…") at once,
# tr_in!(LANG, "…") and trn_in!(LANG, "…", "…", n) after the language expression.
MACRO = re.compile(
    r'\b(?:(tr|tr_noop)!\(\s*"|(tr_in|trn_in)!\(\s*[^,"()]*(?:\([^()]*\))?[^,"()]*,\s*")'
)


def messages():
    """msgid → (msgid_plural or None, 'file') in source order, first occurrence of each."""
    seen = {}
    for base, dirs, files in os.walk(os.path.join(ROOT, "crates")):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(".rs"):
                continue
            path = os.path.join(base, name)
            rel = os.path.relpath(path, ROOT)
            if rel in SKIPPED:
                continue
            src = open(path, encoding="utf-8").read()
            for m in MACRO.finditer(src):
                line_start = src.rfind("\n", 0, m.start()) + 1
                if src[line_start : m.start()].lstrip().startswith("//"):
                    continue
                msgid, end = rust_string(src, m.end() - 1)
                plural = None
                if m.group(2) == "trn_in":
                    rest = re.match(r'\s*,\s*"', src[end:])
                    plural, _ = rust_string(src, end + rest.end() - 1)
                seen.setdefault(msgid, (plural, rel.replace(os.sep, "/")))
    return seen


def escape(s):
    return (
        s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    )


def po_string(keyword, s):
    return f'{keyword} "{escape(s)}"\n'


def read_po(path):
    """msgid → [msgstr, …] of a catalog (the plural forms in order), and its header."""
    entries, header = {}, ""
    text = open(path, encoding="utf-8").read()
    blocks = text.strip("\n").split("\n\n")
    for block in blocks:
        fields, key = {}, None
        for line in block.split("\n"):
            line = line.strip()
            if line.startswith("#") or not line:
                continue
            if line.startswith('"'):
                fields[key] += unescape(line[1:-1])
                continue
            key, rest = line.split(" ", 1)
            fields[key] = unescape(rest.strip()[1:-1])
        if fields.get("msgid") == "":
            header = block
        elif "msgid" in fields:
            forms = [fields[k] for k in sorted(k for k in fields if k.startswith("msgstr"))]
            entries[fields["msgid"]] = forms
    return entries, header


def plural_forms(header):
    """nplurals of a catalog's Plural-Forms header (2 when it has none)."""
    m = re.search(r"nplurals=(\d+)", header)
    return int(m.group(1)) if m else 2


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\":
            out.append(ESCAPES[s[i + 1]])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def render(header, ids, translations):
    out = [header.rstrip("\n") + "\n"]
    nplurals = plural_forms(header)
    for msgid, (plural, where) in ids.items():
        out.append(f"\n#: {where}\n")
        if "{" in msgid:
            out.append("#, rust-format\n")
        out.append(po_string("msgid", msgid))
        forms = translations.get(msgid, [])
        if plural is None:
            out.append(po_string("msgstr", forms[0] if forms else ""))
            continue
        out.append(po_string("msgid_plural", plural))
        for i in range(nplurals):
            out.append(po_string(f"msgstr[{i}]", forms[i] if i < len(forms) else ""))
    return "".join(out)


def update(path, text, check):
    """Write `text` to `path` unless it is there already; True if it was (or would be)
    changed."""
    try:
        old = open(path, encoding="utf-8").read()
    except FileNotFoundError:
        old = None
    if old == text:
        return False
    if not check:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return True


POT_HEADER = """# rsmtp's messages. Generated by contrib/i18n/update-po.py from the tr!("…")
# calls in crates/; do not edit by hand. Copy to LL.po to start a translation.
# Placeholders such as {account} must stay as they are (their order may change).
msgid ""
msgstr ""
"Project-Id-Version: rsmtp\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
"""


def main():
    check = sys.argv[1:] == ["--check"]
    if sys.argv[1:] and not check:
        print(__doc__, file=sys.stderr)
        return 2
    ids = messages()
    po_dir = os.path.join(ROOT, "po")
    changed = []
    if update(os.path.join(po_dir, "rsmtp.pot"), render(POT_HEADER, ids, {}), check):
        changed.append("po/rsmtp.pot")
    for name in sorted(os.listdir(po_dir)):
        if not name.endswith(".po"):
            continue
        path = os.path.join(po_dir, name)
        translations, header = read_po(path)
        missing = [i for i in ids if not all(translations.get(i) or [""])]
        if update(path, render(header, ids, translations), check):
            changed.append(f"po/{name}")
        if not check:
            print(f"po/{name}: {len(ids) - len(missing)} translated, {len(missing)} to do")
    if check and changed:
        print(
            f"{', '.join(changed)}: not what contrib/i18n/update-po.py writes; "
            "run python3 contrib/i18n/update-po.py and commit the result",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
