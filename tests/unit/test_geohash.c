/* test_geohash.c -- the geo arithmetic (geohash.c).
 *
 *   - positions encode to the scores Redis stores and decode to the cell
 *     centres GEOPOS prints (known values from redis-server 7.0);
 *   - GEOHASH strings; out-of-range positions are refused, the edges of
 *     the square are accepted;
 *   - neighbours are the adjacent cells, wrapping around the square, and
 *     moving there and back is the identity;
 *   - distances: known values, symmetry, the meridian shortcut;
 *   - a cell's score range holds exactly the positions inside the cell;
 *   - the search cells cover the shape: for random shapes and points, a
 *     point the shape contains lies in one of the cells geohashSearchCells
 *     returns (the property the searches rely on, away from the poles). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geohash.h"

Test(geohash, known_scores_and_positions) {
    double score, xy[2];
    cr_assert(geohashScore(13.361389, 38.115556, &score));
    cr_assert_eq((uint64_t)score, 3479099956230698ULL);
    geohashDecodeScore(score, xy);
    char b[64];
    snprintf(b, sizeof(b), "%.17f", xy[0]);
    cr_assert_str_eq(b, "13.36138933897018433");
    snprintf(b, sizeof(b), "%.17f", xy[1]);
    cr_assert_str_eq(b, "38.11555639549629859");
    cr_assert(geohashScore(15.087269, 37.502669, &score));
    cr_assert_eq((uint64_t)score, 3479447370796909ULL);
}

Test(geohash, strings) {
    double score;
    char b[12];
    geohashScore(13.361389, 38.115556, &score);
    geohashString(score, b);
    cr_assert_str_eq(b, "sqc8b49rny0");
    geohashScore(15.087269, 37.502669, &score);
    geohashString(score, b);
    cr_assert_str_eq(b, "sqdtr74hyu0");
}

Test(geohash, ranges) {
    double score;
    cr_assert(!geohashScore(180.0001, 0, &score));
    cr_assert(!geohashScore(-180.0001, 0, &score));
    cr_assert(!geohashScore(0, 85.06, &score));
    cr_assert(!geohashScore(0, -85.06, &score));
    cr_assert(geohashScore(-180, -85.05112878, &score));
    cr_assert_eq(score, 0);
    cr_assert(geohashScore(180, 85.05112878, &score));
    double xy[2];
    geohashDecodeScore(score, xy);
    cr_assert(xy[0] <= GEO_LONG_MAX && xy[1] <= GEO_LAT_MAX);
    geoCell c;
    cr_assert(!geohashEncodeWGS84(0, 0, 0, &c));
    cr_assert(!geohashEncodeWGS84(0, 0, 33, &c));
}

static void cellNumbers(geoCell c, uint32_t *lat, uint32_t *lon) {
    *lat = *lon = 0;
    for (int i = 0; i < c.step; i++) {
        *lat |= (uint32_t)((c.bits >> (2 * i)) & 1) << i;
        *lon |= (uint32_t)((c.bits >> (2 * i + 1)) & 1) << i;
    }
}

Test(geohash, neighbours) {
    srand(7);
    for (int t = 0; t < 2000; t++) {
        int step = 1 + rand() % 26;
        geoCell c;
        cr_assert(geohashEncodeWGS84(-180 + 360.0 * rand() / RAND_MAX * 0.999,
                                     -85 + 170.0 * rand() / RAND_MAX, step, &c));
        geoCell n[8];
        geohashNeighbours(c, n);
        uint32_t lat, lon, mask = (uint32_t)((1ULL << step) - 1);
        cellNumbers(c, &lat, &lon);
        static const int dlon[8] = {0, 0, 1, -1, 1, -1, 1, -1};
        static const int dlat[8] = {1, -1, 0, 0, 1, 1, -1, -1};
        for (int k = 0; k < 8; k++) {
            uint32_t nlat, nlon;
            cr_assert_eq(n[k].step, step);
            cr_assert_eq(n[k].bits >> (2 * step), 0);
            cellNumbers(n[k], &nlat, &nlon);
            cr_assert_eq(nlat, (lat + (uint32_t)dlat[k]) & mask);
            cr_assert_eq(nlon, (lon + (uint32_t)dlon[k]) & mask);
        }
        /* north then south is home */
        geoCell back[8];
        geohashNeighbours(n[0], back);
        cr_assert_eq(back[1].bits, c.bits);
        geohashNeighbours(n[2], back);
        cr_assert_eq(back[3].bits, c.bits);
    }
}

Test(geohash, distances) {
    double p[2], q[2], s1, s2;
    geohashScore(13.361389, 38.115556, &s1);
    geohashScore(15.087269, 37.502669, &s2);
    geohashDecodeScore(s1, p);
    geohashDecodeScore(s2, q);
    double d = geohashDistance(p[0], p[1], q[0], q[1]);
    cr_assert(fabs(d - 166274.1516) < 0.00006, "%f", d);
    cr_assert_eq(d, geohashDistance(q[0], q[1], p[0], p[1]));
    cr_assert_eq(geohashDistance(1, 2, 1, 2), 0);
    /* on a meridian: the arc between the latitudes */
    double m = geohashDistance(10, 0, 10, 1);
    cr_assert(fabs(m - GEO_EARTH_RADIUS * M_PI / 180) < 1e-6);
    cr_assert_eq(m, geohashLatDistance(0, 1));
    /* half the circumference */
    cr_assert(fabs(geohashDistance(0, 0, 180, 0) - GEO_EARTH_RADIUS * M_PI) < 1e-3);
}

Test(geohash, cell_scores_hold_the_cell) {
    srand(11);
    for (int t = 0; t < 5000; t++) {
        double lon = -180 + 360.0 * rand() / RAND_MAX, lat = -85 + 170.0 * rand() / RAND_MAX;
        double score, min, max;
        geohashScore(lon, lat, &score);
        int step = 1 + rand() % 26;
        geoCell c;
        geohashEncodeWGS84(lon, lat, step, &c);
        geohashCellScores(c, &min, &max);
        cr_assert(min <= score && score < max);
        geoArea a;
        geohashDecode((geoRange){-180, 180}, (geoRange){GEO_LAT_MIN, GEO_LAT_MAX}, c, &a);
        cr_assert(a.lon.min <= lon && lon <= a.lon.max && a.lat.min <= lat && lat <= a.lat.max);
    }
}

Test(geohash, steps) {
    cr_assert_eq(geohashEstimateSteps(0, 0), 26);
    cr_assert_eq(geohashEstimateSteps(1, 0), 24);
    cr_assert_eq(geohashEstimateSteps(1, 70), 23);
    cr_assert_eq(geohashEstimateSteps(1, -81), 22);
    cr_assert_eq(geohashEstimateSteps(1e9, 0), 1);
    cr_assert(geohashEstimateSteps(1000, 0) > geohashEstimateSteps(100000, 0));
}

/* Is score inside one of the cells? */
static int inCells(const geoCell cells[9], double score) {
    for (int k = 0; k < 9; k++) {
        if (cells[k].bits == 0 && cells[k].step == 0) continue;
        double min, max;
        geohashCellScores(cells[k], &min, &max);
        if (min <= score && score < max) return 1;
    }
    return 0;
}

Test(geohash, search_cells_cover_the_shape) {
    srand(3);
    long found = 0;
    for (int t = 0; t < 300; t++) {
        geoShape s = {0};
        s.type = t % 2 ? GEO_SHAPE_BOX : GEO_SHAPE_RADIUS;
        s.xy[0] = -179 + 358.0 * rand() / RAND_MAX;
        s.xy[1] = -60 + 120.0 * rand() / RAND_MAX;
        s.conversion = 1000;
        s.radius = 1 + rand() % 300;
        s.width = 1 + rand() % 300;
        s.height = 1 + rand() % 300;
        geoCell cells[9];
        cr_assert_eq(geohashSearchCells(&s, cells), 9);
        cr_assert(cells[0].step >= 1);
        for (int k = 0; k < 500; k++) {
            /* points around the centre, some inside the shape */
            double lon = s.xy[0] + (6.0 * rand() / RAND_MAX - 3);
            double lat = s.xy[1] + (6.0 * rand() / RAND_MAX - 3);
            double score, xy[2], dist;
            if (!geohashScore(lon, lat, &score)) continue;
            geohashDecodeScore(score, xy);
            if (!geohashShapeContains(&s, xy, &dist)) continue;
            found++;
            cr_assert(inCells(cells, score), "shape %d at %f,%f misses %f,%f", s.type, s.xy[0],
                      s.xy[1], lon, lat);
            cr_assert(dist <= (s.type == GEO_SHAPE_RADIUS ? s.radius : 300) * 1000 * 1.5);
        }
    }
    cr_assert(found > 1000);
}

Test(geohash, box_contains) {
    geoShape s = {GEO_SHAPE_BOX, {0, 0}, 1000, 0, 200, 100};
    double d;
    cr_assert(geohashShapeContains(&s, (double[]){0.5, 0.2}, &d));
    cr_assert(!geohashShapeContains(&s, (double[]){0, 0.5}, &d));  /* 55 km north */
    cr_assert(geohashShapeContains(&s, (double[]){0.85, 0}, &d));  /* 94 km east */
    cr_assert(!geohashShapeContains(&s, (double[]){0.95, 0}, &d)); /* 105 km east */
    geoShape c = {GEO_SHAPE_RADIUS, {0, 0}, 1, 1000, 0, 0};
    cr_assert(geohashShapeContains(&c, (double[]){0.005, 0.005}, &d));
    cr_assert(d > 780 && d < 790);
    cr_assert(!geohashShapeContains(&c, (double[]){0.01, 0}, &d));
}
