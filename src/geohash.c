/* geohash.c -- geohash encoding, neighbours, distances and search cells
 * (see geohash.h for the layout and why it follows Redis 7.0 exactly).
 *
 * Invariants: a cell's step is 1..32 (26 for stored positions); its bits
 * above 2*step are 0, except that a coordinate exactly on the upper edge
 * of its range encodes to cell 2^step (Redis's encoder does the same: the
 * offset 1.0 scaled by 2^step is not clamped), which decodes back to that
 * edge. Floating-point expressions are written in the order that yields
 * Redis's results bit for bit (what GEOPOS and WITHDIST print). */
#include "geohash.h"

#include <math.h>
#include <stddef.h>

static const geoRange lonRangeWGS84 = {GEO_LONG_MIN, GEO_LONG_MAX};
static const geoRange latRangeWGS84 = {GEO_LAT_MIN, GEO_LAT_MAX};

static double degToRad(double d) { return d * (M_PI / 180.0); }
static double radToDeg(double r) { return r / (M_PI / 180.0); }

/* The 32 bits of v spread to the even bit positions of the result. */
static uint64_t spread(uint32_t v) {
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

/* The even bits of x, packed: the inverse of spread. */
static uint32_t squash(uint64_t x) {
    x &= 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return (uint32_t)x;
}

static uint64_t interleave(uint32_t lat, uint32_t lon) { return spread(lat) | (spread(lon) << 1); }

int geohashEncode(geoRange lonr, geoRange latr, double lon, double lat, int step, geoCell *cell) {
    if (step < 1 || step > 32 || lonr.max == lonr.min || latr.max == latr.min) return 0;
    /* nothing outside the Mercator square is indexed, whatever the ranges */
    if (lon > GEO_LONG_MAX || lon < GEO_LONG_MIN || lat > GEO_LAT_MAX || lat < GEO_LAT_MIN) return 0;
    if (lat < latr.min || lat > latr.max || lon < lonr.min || lon > lonr.max) return 0;
    double latoff = (lat - latr.min) / (latr.max - latr.min);
    double lonoff = (lon - lonr.min) / (lonr.max - lonr.min);
    latoff *= (double)(1ULL << step);
    lonoff *= (double)(1ULL << step);
    cell->bits = interleave((uint32_t)latoff, (uint32_t)lonoff);
    cell->step = step;
    return 1;
}

int geohashEncodeWGS84(double lon, double lat, int step, geoCell *cell) {
    return geohashEncode(lonRangeWGS84, latRangeWGS84, lon, lat, step, cell);
}

int geohashDecode(geoRange lonr, geoRange latr, geoCell cell, geoArea *area) {
    if ((cell.bits == 0 && cell.step == 0) || cell.step > 32) return 0;
    uint32_t ilat = squash(cell.bits), ilon = squash(cell.bits >> 1);
    double cells = (double)(1ULL << cell.step);
    double latscale = latr.max - latr.min, lonscale = lonr.max - lonr.min;
    area->lat.min = latr.min + (ilat * 1.0 / cells) * latscale;
    area->lat.max = latr.min + ((uint32_t)(ilat + 1) * 1.0 / cells) * latscale;
    area->lon.min = lonr.min + (ilon * 1.0 / cells) * lonscale;
    area->lon.max = lonr.min + ((uint32_t)(ilon + 1) * 1.0 / cells) * lonscale;
    return 1;
}

void geohashDecodeScore(double score, double xy[2]) {
    geoCell c = {(uint64_t)score, GEO_STEP_MAX};
    geoArea a;
    geohashDecode(lonRangeWGS84, latRangeWGS84, c, &a);
    xy[0] = (a.lon.min + a.lon.max) / 2;
    if (xy[0] > GEO_LONG_MAX) xy[0] = GEO_LONG_MAX;
    if (xy[0] < GEO_LONG_MIN) xy[0] = GEO_LONG_MIN;
    xy[1] = (a.lat.min + a.lat.max) / 2;
    if (xy[1] > GEO_LAT_MAX) xy[1] = GEO_LAT_MAX;
    if (xy[1] < GEO_LAT_MIN) xy[1] = GEO_LAT_MIN;
}

int geohashScore(double lon, double lat, double *score) {
    geoCell c;
    if (!geohashEncodeWGS84(lon, lat, GEO_STEP_MAX, &c)) return 0;
    *score = (double)c.bits;
    return 1;
}

void geohashString(double score, char buf[12]) {
    static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    double xy[2];
    geohashDecodeScore(score, xy);
    /* the standard geohash spans latitudes -90..90: re-encode the position */
    geoRange lonr = {-180, 180}, latr = {-90, 90};
    geoCell c = {0, 0};
    geohashEncode(lonr, latr, xy[0], xy[1], GEO_STEP_MAX, &c);
    /* 52 bits make 10 characters and 2 bits; the 11th character is '0',
     * as Redis prints it */
    for (int i = 0; i < 10; i++) buf[i] = alphabet[(c.bits >> (52 - (i + 1) * 5)) & 0x1f];
    buf[10] = '0';
    buf[11] = '\0';
}

/* The cell dlon columns east and dlat rows north of c, wrapping around
 * (the step's cell numbers are taken modulo 2^step). */
static geoCell moveCell(geoCell c, int dlon, int dlat) {
    uint64_t mask = (c.step >= 32) ? 0xFFFFFFFFULL : ((1ULL << c.step) - 1);
    uint64_t lat = squash(c.bits), lon = squash(c.bits >> 1);
    lat = (lat + (uint64_t)(int64_t)dlat) & mask;
    lon = (lon + (uint64_t)(int64_t)dlon) & mask;
    geoCell n = {interleave((uint32_t)lat, (uint32_t)lon), c.step};
    return n;
}

void geohashNeighbours(geoCell c, geoCell out[8]) {
    out[0] = moveCell(c, 0, 1);   /* north */
    out[1] = moveCell(c, 0, -1);  /* south */
    out[2] = moveCell(c, 1, 0);   /* east */
    out[3] = moveCell(c, -1, 0);  /* west */
    out[4] = moveCell(c, 1, 1);   /* north-east */
    out[5] = moveCell(c, -1, 1);  /* north-west */
    out[6] = moveCell(c, 1, -1);  /* south-east */
    out[7] = moveCell(c, -1, -1); /* south-west */
}

double geohashLatDistance(double lat1, double lat2) {
    return GEO_EARTH_RADIUS * fabs(degToRad(lat2) - degToRad(lat1));
}

/* Haversine. On one meridian (the longitudes' half-difference has a sine
 * of 0) the distance is the arc between the latitudes, which Redis
 * computes that way: the same digits in WITHDIST. */
double geohashDistance(double lon1, double lat1, double lon2, double lat2) {
    double lon1r = degToRad(lon1), lon2r = degToRad(lon2);
    double v = sin((lon2r - lon1r) / 2);
    if (v == 0.0) return geohashLatDistance(lat1, lat2);
    double lat1r = degToRad(lat1), lat2r = degToRad(lat2);
    double u = sin((lat2r - lat1r) / 2);
    double a = u * u + cos(lat1r) * cos(lat2r) * v * v;
    return 2.0 * GEO_EARTH_RADIUS * asin(sqrt(a));
}

/* The step whose cells are about as large as the search: halve the
 * square until it is smaller than the range, back off two steps so that
 * the 3x3 cells around the centre cover the range, one or two more near
 * the poles where the cells narrow. */
int geohashEstimateSteps(double meters, double lat) {
    if (meters == 0) return GEO_STEP_MAX;
    int step = 1;
    while (meters < GEO_MERCATOR_MAX) {
        meters *= 2;
        step++;
    }
    step -= 2;
    if (lat > 66 || lat < -66) {
        step--;
        if (lat > 80 || lat < -80) step--;
    }
    if (step < 1) step = 1;
    if (step > GEO_STEP_MAX) step = GEO_STEP_MAX;
    return step;
}

/* The shape's bounding box in degrees: lon min, lat min, lon max, lat max.
 * The longitude span is taken at the latitude edge nearer the pole (where
 * a distance east spans the most degrees). */
static void boundingBox(const geoShape *s, double b[4]) {
    double lon = s->xy[0], lat = s->xy[1];
    double h = s->conversion * (s->type == GEO_SHAPE_RADIUS ? s->radius : s->height / 2);
    double w = s->conversion * (s->type == GEO_SHAPE_RADIUS ? s->radius : s->width / 2);
    double dlat = radToDeg(h / GEO_EARTH_RADIUS);
    double dlontop = radToDeg(w / GEO_EARTH_RADIUS / cos(degToRad(lat + dlat)));
    double dlonbottom = radToDeg(w / GEO_EARTH_RADIUS / cos(degToRad(lat - dlat)));
    int south = lat < 0;
    b[0] = south ? lon - dlonbottom : lon - dlontop;
    b[2] = south ? lon + dlonbottom : lon + dlontop;
    b[1] = lat - dlat;
    b[3] = lat + dlat;
}

int geohashSearchCells(const geoShape *s, geoCell cells[9]) {
    double b[4];
    boundingBox(s, b);
    double meters = s->type == GEO_SHAPE_RADIUS
                        ? s->radius
                        : sqrt((s->width / 2) * (s->width / 2) + (s->height / 2) * (s->height / 2));
    meters *= s->conversion;
    int step = geohashEstimateSteps(meters, s->xy[1]);
    geoCell c = {0, 0};
    geoArea area, n, so, e, w;
    geohashEncodeWGS84(s->xy[0], s->xy[1], step, &c);
    geohashNeighbours(c, cells + 1);
    geohashDecode(lonRangeWGS84, latRangeWGS84, c, &area);
    /* near an edge of its cell the centre may be too close to a neighbour's
     * far side for the neighbours to cover the shape: one step coarser */
    geohashDecode(lonRangeWGS84, latRangeWGS84, cells[1], &n);
    geohashDecode(lonRangeWGS84, latRangeWGS84, cells[2], &so);
    geohashDecode(lonRangeWGS84, latRangeWGS84, cells[3], &e);
    geohashDecode(lonRangeWGS84, latRangeWGS84, cells[4], &w);
    int coarser = n.lat.max < b[3] || so.lat.min > b[1] || e.lon.max < b[2] || w.lon.min > b[0];
    if (step > 1 && coarser) {
        step--;
        geohashEncodeWGS84(s->xy[0], s->xy[1], step, &c);
        geohashNeighbours(c, cells + 1);
        geohashDecode(lonRangeWGS84, latRangeWGS84, c, &area);
    }
    cells[0] = c;
    /* a side of the shape inside the centre's cell needs no neighbour there */
    static const geoCell none = {0, 0};
    if (step >= 2) {
        if (area.lat.min < b[1]) cells[2] = cells[7] = cells[8] = none; /* south */
        if (area.lat.max > b[3]) cells[1] = cells[5] = cells[6] = none; /* north */
        if (area.lon.min < b[0]) cells[4] = cells[6] = cells[8] = none; /* west */
        if (area.lon.max > b[2]) cells[3] = cells[5] = cells[7] = none; /* east */
    }
    return 9;
}

void geohashCellScores(geoCell c, double *min, double *max) {
    int shift = 2 * (GEO_STEP_MAX - c.step);
    *min = (double)(c.bits << shift);
    *max = (double)((c.bits + 1) << shift);
}

int geohashShapeContains(const geoShape *s, const double xy[2], double *dist) {
    if (s->type == GEO_SHAPE_RADIUS) {
        double d = geohashDistance(s->xy[0], s->xy[1], xy[0], xy[1]);
        if (d > s->radius * s->conversion) return 0;
        *dist = d;
        return 1;
    }
    /* the box: its half-height along the meridian, its half-width along
     * the point's parallel (cheaper test first) */
    double w = s->width * s->conversion, h = s->height * s->conversion;
    if (geohashLatDistance(xy[1], s->xy[1]) > h / 2) return 0;
    if (geohashDistance(xy[0], xy[1], s->xy[0], xy[1]) > w / 2) return 0;
    *dist = geohashDistance(s->xy[0], s->xy[1], xy[0], xy[1]);
    return 1;
}
