"""webtools.py -- what the status page tests need besides a cluster:
headless Chromium (Debian's package), a small DOM built from Chromium's
--dump-dom output, a strict Prometheus text-format parser, and ringkv's key
-> partition function (XXH3-64 through libxxhash, as src/record.c)."""
import ctypes
import ctypes.util
import html.parser
import os
import re
import shutil
import signal
import subprocess
import tempfile

from testprocs import stop_proc, track

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  "--window-size=1200,900"]


def chromium_path():
    for p in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if p and os.access(p, os.X_OK):
            return p
    return None


def chromium(url, mode, out=None, tmp=None, timeout=90):
    """Loads url in a fresh headless Chromium (new empty profile each time).
    mode "dom": returns the rendered DOM (--dump-dom); mode "png": writes
    a 1200x900 screenshot to out. Chromium runs in its own process group,
    stopped by that group's id if it outlives the timeout."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp)
    argv = [chromium_path()] + CHROMIUM_FLAGS + ["--user-data-dir=" + profile]
    argv += ["--dump-dom"] if mode == "dom" else ["--screenshot=" + out]
    argv.append(url)
    proc = track(subprocess.Popen(argv, stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, start_new_session=True))
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate(timeout=10)
        raise AssertionError("chromium did not finish loading %s within %ss" % (url, timeout))
    finally:
        stop_proc(proc, signal.SIGKILL, timeout=5)
        shutil.rmtree(profile, ignore_errors=True)
    if proc.returncode != 0:
        raise AssertionError("chromium exited with %s for %s:\n%s" % (
            proc.returncode, url, stderr.decode("utf-8", "replace")[-2000:]))
    if mode == "png" and not (os.path.exists(out) and os.path.getsize(out) > 1000):
        raise AssertionError("chromium wrote no screenshot for %s" % url)
    return stdout.decode("utf-8", "replace")


# ------------------------------------------------------------------ the DOM

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Element:
    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children = []

    @property
    def classes(self):
        return set((self.attrs.get("class") or "").split())

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        for c in self.children:
            if isinstance(c, Element):
                yield c
                yield from c.iter()

    def find_all(self, tag=None, cls=None, id=None):
        return [e for e in self.iter() if (tag is None or e.tag == tag) and
                (cls is None or cls in e.classes) and (id is None or e.attrs.get("id") == id)]

    def find(self, tag=None, cls=None, id=None):
        found = self.find_all(tag, cls, id)
        return found[0] if found else None

    def __repr__(self):
        return "<%s %r>" % (self.tag, self.attrs)


class _Builder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        e = Element(tag, attrs, self.cur)
        self.cur.children.append(e)
        if tag not in VOID:
            self.cur = e

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Element(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        e = self.cur
        while e is not self.root and e.tag != tag:
            e = e.parent
        if e is not self.root:
            self.cur = e.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse_dom(text):
    b = _Builder()
    b.feed(text)
    b.close()
    return b.root


# ------------------------------------------------------- Prometheus text

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
_VALUE = r"(?:[+-]?(?:[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+\.)|[+-]?Inf|NaN)"
SAMPLE_RE = re.compile(r"^(%s)(?:\{((?:%s)(?:,%s)*,?)?\})? (%s)(?: -?[0-9]+)?$" %
                       (_NAME, _LABEL, _LABEL, _VALUE))
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def parse_prometheus(text):
    """Parses Prometheus text exposition format 0.0.4 strictly.
    Returns (samples, types): samples {(name, frozenset(labels)): float},
    types {family: type}. Raises AssertionError on any malformed line, a
    duplicate series, a TYPE after its family's samples, or an unknown type."""
    samples, types, seen_family = {}, {}, set()
    if not text.endswith("\n"):
        raise AssertionError("the exposition does not end with a newline")
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                if len(parts) < 3 or not re.fullmatch(_NAME, parts[2]):
                    raise AssertionError("line %d: bad %s line %r" % (n, parts[1], line))
                if parts[1] == "TYPE":
                    t = parts[3] if len(parts) > 3 else ""
                    if t not in ("counter", "gauge", "histogram", "summary", "untyped"):
                        raise AssertionError("line %d: unknown type %r" % (n, t))
                    if parts[2] in types:
                        raise AssertionError("line %d: second TYPE for %s" % (n, parts[2]))
                    if parts[2] in seen_family:
                        raise AssertionError("line %d: TYPE after samples of %s" % (n, parts[2]))
                    types[parts[2]] = t
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            raise AssertionError("line %d is not `name{labels} value`: %r" % (n, line))
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        lab = frozenset(LABEL_RE.findall(labels))
        key = (name, lab)
        if key in samples:
            raise AssertionError("line %d: duplicate series %r" % (n, line))
        samples[key] = float(value.replace("Inf", "inf"))
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        seen_family.add(name)
        seen_family.add(family)
    return samples, types


# ------------------------------------------------------- key -> partition

_xxh = None


def key_partition(key, db=0, qbits=8):
    """partition = top qbits bits of XXH3-64(key, seed db) (src/record.c)."""
    global _xxh
    if _xxh is None:
        path = ctypes.util.find_library("xxhash") or "libxxhash.so.0"
        _xxh = ctypes.CDLL(path)
        _xxh.XXH3_64bits_withSeed.restype = ctypes.c_uint64
        _xxh.XXH3_64bits_withSeed.argtypes = [ctypes.c_char_p, ctypes.c_size_t,
                                              ctypes.c_uint64]
    k = key.encode() if isinstance(key, str) else key
    return _xxh.XXH3_64bits_withSeed(k, len(k), db) >> (64 - qbits)


def keys_per_partition(nparts, qbits):
    """One key for each partition: {partition: key}."""
    out, i = {}, 0
    while len(out) < nparts:
        k = "pk:%d" % i
        out.setdefault(key_partition(k, 0, qbits), k)
        i += 1
        if i > 1000000:
            raise AssertionError("could not find a key for every partition")
    return out
