"""pngchart.py -- line charts written as PNG files with nothing but the Python
standard library (zlib), for the soak run's RSS and fd curves.

Why not gnuplot or matplotlib: the soak must run wherever the tests run,
without installing a plotting package (and without network access to fetch
one); a chart of a few lines on shared axes needs little more than a pixel
buffer, straight lines, a tiny bitmap font and the PNG container (a
signature, an IHDR chunk, zlib-compressed scanlines in IDAT, IEND).

API:
  Canvas(w, h)                        an RGB pixel buffer, white
    .line(x0, y0, x1, y1, rgb, dash=0, width=1)
    .fill(x0, y0, x1, y1, rgb)        rectangle, both corners included
    .text(x, y, s, rgb, scale=2)      5x7 glyphs (upper case, digits, .,:-/()%_=+);
                                      lower case is drawn as upper case
    .png() -> bytes
  text_width(s, scale=2) -> pixels
  nice_ticks(lo, hi, n=6) -> [tick values]   1, 2, 5 x 10^k steps
  chart(path, panels, xlabel, title, width, panel_height)
      panels: [{"title": str, "ylabel": str,
                "series": [(label, rgb, [(x, y), ...]), ...],   None y = gap
                "hlines": [(y, rgb, label), ...],               dashed
                "vlines": [(x, rgb), ...]}]                     dotted, full height
      one panel above the other, sharing the x range.

Invariants: every pixel written is clipped to the canvas; a series point with
y None breaks the line (a node that was down); the PNG is 8-bit RGB, no
interlace, filter type 0 on every scanline.
"""
import math
import struct
import zlib

# 5 columns x 7 rows per glyph, '#' = ink.
_GLYPHS = {
    "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
    "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
    "2": ".###. #...# ....# ...#. ..#.. .#... #####",
    "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
    "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
    "5": "##### #.... ####. ....# ....# #...# .###.",
    "6": "..##. .#... #.... ####. #...# #...# .###.",
    "7": "##### ....# ...#. ..#.. .#... .#... .#...",
    "8": ".###. #...# #...# .###. #...# #...# .###.",
    "9": ".###. #...# #...# .#### ....# ...#. .##..",
    "A": ".###. #...# #...# ##### #...# #...# #...#",
    "B": "####. #...# #...# ####. #...# #...# ####.",
    "C": ".###. #...# #.... #.... #.... #...# .###.",
    "D": "###.. #..#. #...# #...# #...# #..#. ###..",
    "E": "##### #.... #.... ####. #.... #.... #####",
    "F": "##### #.... #.... ####. #.... #.... #....",
    "G": ".###. #...# #.... #.### #...# #...# .####",
    "H": "#...# #...# #...# ##### #...# #...# #...#",
    "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
    "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
    "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
    "L": "#.... #.... #.... #.... #.... #.... #####",
    "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#",
    "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
    "O": ".###. #...# #...# #...# #...# #...# .###.",
    "P": "####. #...# #...# ####. #.... #.... #....",
    "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#",
    "R": "####. #...# #...# ####. #.#.. #..#. #...#",
    "S": ".#### #.... #.... .###. ....# ....# ####.",
    "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
    "U": "#...# #...# #...# #...# #...# #...# .###.",
    "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
    "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
    "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
    "Y": "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
    "Z": "##### ....# ...#. ..#.. .#... #.... #####",
    " ": "..... ..... ..... ..... ..... ..... .....",
    ".": "..... ..... ..... ..... ..... .##.. .##..",
    ",": "..... ..... ..... ..... .##.. ..#.. .#...",
    ":": "..... .##.. .##.. ..... .##.. .##.. .....",
    "-": "..... ..... ..... ##### ..... ..... .....",
    "/": "..... ....# ...#. ..#.. .#... #.... .....",
    "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
    ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
    "%": "##... ##..# ...#. ..#.. .#... #..## ...##",
    "_": "..... ..... ..... ..... ..... ..... #####",
    "=": "..... ..... ##### ..... ##### ..... .....",
    "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
    "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
}
_FONT = {ch: [row for row in g.split()] for ch, g in _GLYPHS.items()}
GLYPH_W, GLYPH_H = 5, 7

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GREY = (200, 200, 200)
DARK = (90, 90, 90)


def text_width(s, scale=2):
    return len(s) * (GLYPH_W + 1) * scale


class Canvas:
    def __init__(self, w, h, bg=WHITE):
        self.w, self.h = w, h
        self.px = bytearray(bytes(bg) * (w * h))

    def set(self, x, y, c):
        if 0 <= x < self.w and 0 <= y < self.h:
            i = (y * self.w + x) * 3
            self.px[i:i + 3] = bytes(c)

    def fill(self, x0, y0, x1, y1, c):
        x0, x1 = sorted((int(x0), int(x1)))
        y0, y1 = sorted((int(y0), int(y1)))
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, self.w - 1), min(y1, self.h - 1)
        if x0 > x1:
            return
        row = bytes(c) * (x1 - x0 + 1)
        for y in range(y0, y1 + 1):
            i = (y * self.w + x0) * 3
            self.px[i:i + len(row)] = row

    def line(self, x0, y0, x1, y1, c, dash=0, width=1):
        """Bresenham; dash > 0 draws dash pixels on, dash off."""
        x0, y0, x1, y1 = int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1))
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        n = 0
        while True:
            if not dash or (n // dash) % 2 == 0:
                for o in range(width):
                    if dx >= -dy:
                        self.set(x0, y0 + o, c)
                    else:
                        self.set(x0 + o, y0, c)
            n += 1
            if x0 == x1 and y0 == y1:
                break
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def text(self, x, y, s, c, scale=2):
        for ch in str(s).upper():
            g = _FONT.get(ch, _FONT["?"])
            for ry, row in enumerate(g):
                for rx, bit in enumerate(row):
                    if bit == "#":
                        self.fill(x + rx * scale, y + ry * scale,
                                  x + rx * scale + scale - 1, y + ry * scale + scale - 1, c)
            x += (GLYPH_W + 1) * scale

    def png(self):
        stride = self.w * 3
        raw = bytearray()
        for y in range(self.h):
            raw.append(0)  # filter type 0 (none)
            raw += self.px[y * stride:(y + 1) * stride]

        def chunk(kind, data):
            return (struct.pack(">I", len(data)) + kind + data +
                    struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

        ihdr = struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0)  # 8-bit RGB
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
                chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))


def nice_ticks(lo, hi, n=6):
    """Round tick values covering [lo, hi]: steps of 1, 2 or 5 x 10^k."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    t = math.floor(lo / step) * step
    out = [round(t, 10)]
    while out[-1] < hi - step * 1e-9:
        t += step
        out.append(round(t, 10))
    return out


def _fmt(v):
    if abs(v - round(v)) < 1e-9:
        return "%d" % round(v)
    return ("%.3f" % v).rstrip("0").rstrip(".")


def chart(path, panels, xlabel="", title="", width=1400, panel_height=380):
    left, right, top_pad, gap, bottom = 110, 30, 50, 70, 70
    legend_h = 26
    heights = []
    for p in panels:
        heights.append(panel_height + legend_h * (1 + (len(p.get("series", [])) +
                                                       len(p.get("hlines", []))) // 4))
    H = top_pad + sum(heights) + gap * (len(panels) - 1) + bottom
    cv = Canvas(width, H)
    if title:
        cv.text((width - text_width(title, 3)) // 2, 12, title, BLACK, 3)

    xs = [x for p in panels for _, _, pts in p.get("series", []) for x, _ in pts]
    xlo, xhi = (min(xs), max(xs)) if xs else (0.0, 1.0)
    xt = nice_ticks(xlo, xhi, 10)
    xlo, xhi = min(xlo, xt[0]), max(xhi, xt[-1])

    y0 = top_pad
    for p, ph in zip(panels, heights):
        series = p.get("series", [])
        hl = p.get("hlines", [])
        ys = [y for _, _, pts in series for _, y in pts if y is not None] + [y for y, _, _ in hl]
        ylo, yhi = (min(ys), max(ys)) if ys else (0.0, 1.0)
        ylo = min(0.0, ylo)
        yt = nice_ticks(ylo, yhi * 1.05 if yhi > 0 else 1.0, 6)
        ylo, yhi = yt[0], yt[-1]
        # plot area
        px0, px1 = left, width - right
        py0, py1 = y0 + 30, y0 + panel_height - 30
        cv.text(px0, y0 + 4, p.get("title", ""), BLACK, 2)

        def X(v):
            return px0 + (v - xlo) / (xhi - xlo) * (px1 - px0)

        def Y(v):
            return py1 - (v - ylo) / (yhi - ylo) * (py1 - py0)

        for t in yt:
            yy = Y(t)
            cv.line(px0, yy, px1, yy, GREY)
            s = _fmt(t)
            cv.text(px0 - 8 - text_width(s, 2), int(yy) - 7, s, DARK, 2)
        for t in xt:
            xx = X(t)
            cv.line(xx, py0, xx, py1, GREY)
            s = _fmt(t)
            cv.text(int(xx) - text_width(s, 2) // 2, py1 + 8, s, DARK, 2)
        for xv, c in p.get("vlines", []):
            cv.line(X(xv), py0, X(xv), py1, c, dash=3)
        cv.line(px0, py0, px0, py1, BLACK)
        cv.line(px0, py1, px1, py1, BLACK)
        if p.get("ylabel"):
            cv.text(8, py0 - 22, p["ylabel"], DARK, 2)
        for yv, c, _ in hl:
            cv.line(px0, Y(yv), px1, Y(yv), c, dash=8, width=2)
        for _, c, pts in series:
            prev = None
            for x, y in pts:
                if y is None:
                    prev = None
                    continue
                cur = (X(x), Y(y))
                if prev is not None:
                    cv.line(prev[0], prev[1], cur[0], cur[1], c, width=2)
                else:
                    cv.fill(cur[0] - 1, cur[1] - 1, cur[0] + 1, cur[1] + 1, c)
                prev = cur
        # legend below the x tick labels
        lx, ly = px0, py1 + 34
        items = [(lab, c, False) for lab, c, _ in series] + [(lab, c, True) for _, c, lab in hl]
        for lab, c, dashed in items:
            w = 30 + text_width(lab, 2) + 30
            if lx + w > px1:
                lx, ly = px0, ly + legend_h
            if dashed:
                cv.line(lx, ly + 7, lx + 22, ly + 7, c, dash=4, width=2)
            else:
                cv.fill(lx, ly + 2, lx + 22, ly + 12, c)
            cv.text(lx + 30, ly, lab, BLACK, 2)
            lx += w
        y0 += ph + gap
    if xlabel:
        cv.text((width - text_width(xlabel, 2)) // 2, H - 30, xlabel, DARK, 2)
    with open(path, "wb") as f:
        f.write(cv.png())
