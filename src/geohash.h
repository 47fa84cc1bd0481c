/* geohash.h -- the arithmetic of Redis's geo commands (t_geo.c): positions
 * as 52-bit interleaved geohashes (the scores of a geo set's members),
 * distances on the sphere, and the cells a radius or box search scans.
 * Pure: no I/O, no globals.
 *
 * A geohash of step s is two s-bit cell numbers, one for the latitude and
 * one for the longitude, interleaved: bit 2i is the latitude's bit i, bit
 * 2i+1 the longitude's. The cell number of a coordinate c in [min, max] is
 * floor((c - min) / (max - min) * 2^s). A geo set stores step 26 (52 bits)
 * over longitude [-180, 180] and latitude [-85.05112878, 85.05112878] (the
 * Web Mercator square), as an integer-valued double score; GEOHASH prints
 * the standard base32 string, which uses latitude [-90, 90]. A position
 * decodes to the centre of its cell, so what GEOPOS prints is a little off
 * what GEOADD was given, exactly as in Redis.
 *
 * Searches (GEOSEARCH, GEORADIUS): a shape (a circle or a box around a
 * centre) is covered by the cell of the centre at a step chosen from the
 * shape's size, plus its 8 neighbours, minus the neighbours the shape
 * cannot reach (geohashSearchCells); each cell is a score range
 * [min, max) (geohashCellScores); each member whose score lies in one is
 * decoded and tested against the shape (geohashShapeContains). The choice
 * of cells and their order follow Redis 7.0, so that the members found and
 * their order before sorting (what COUNT ANY returns) are Redis's.
 *
 * Distances are haversine on a sphere of Redis's earth radius
 * (GEO_EARTH_RADIUS), in meters.
 *
 * API:
 *   geohashEncode(lonr, latr, lon, lat, step, &cell)    1, or 0 out of range
 *   geohashEncodeWGS84(lon, lat, step, &cell)           the geo set's ranges
 *   geohashDecode(lonr, latr, cell, &area)              the cell's bounds
 *   geohashDecodeScore(score, xy)                       a member's position
 *   geohashScore(lon, lat, &score)                      GEOADD's score; 0 out of range
 *   geohashString(score, buf)                           GEOHASH's 11 characters
 *   geohashNeighbours(cell, out)                        the 8 around a cell
 *   geohashDistance(lon1, lat1, lon2, lat2)             meters
 *   geohashEstimateSteps(meters, lat)                   the search step
 *   geohashSearchCells(shape, cells)                    the 9 cells to scan
 *   geohashCellScores(cell, &min, &max)                 the scores a cell holds
 *   geohashShapeContains(shape, xy, &dist)              a point in the shape?
 */
#ifndef RINGKV_GEOHASH_H
#define RINGKV_GEOHASH_H

#include <stdint.h>

#define GEO_STEP_MAX 26 /* 52 bits: what a double holds exactly */
#define GEO_LAT_MIN -85.05112878
#define GEO_LAT_MAX 85.05112878
#define GEO_LONG_MIN -180.0
#define GEO_LONG_MAX 180.0
#define GEO_EARTH_RADIUS 6372797.560856 /* meters, Redis's */
#define GEO_MERCATOR_MAX 20037726.37    /* half the Mercator square's side, meters */

/* A cell: step bits per axis, interleaved. {0, 0} is "no cell" (a
 * neighbour a search leaves out). */
typedef struct geoCell {
    uint64_t bits;
    int step;
} geoCell;

typedef struct geoRange {
    double min, max;
} geoRange;

/* A cell's bounds in degrees. */
typedef struct geoArea {
    geoRange lon, lat;
} geoArea;

#define GEO_SHAPE_RADIUS 0
#define GEO_SHAPE_BOX 1

/* What a search looks for: a circle (radius) or a box (width x height,
 * its sides along the meridian and the parallel through the centre)
 * around xy; sizes in the unit the command named, conversion meters per
 * unit. */
typedef struct geoShape {
    int type;          /* GEO_SHAPE_* */
    double xy[2];      /* centre: longitude, latitude */
    double conversion; /* meters per unit */
    double radius;     /* GEO_SHAPE_RADIUS */
    double width;      /* GEO_SHAPE_BOX */
    double height;
} geoShape;

int geohashEncode(geoRange lonr, geoRange latr, double lon, double lat, int step, geoCell *cell);
int geohashEncodeWGS84(double lon, double lat, int step, geoCell *cell);
int geohashDecode(geoRange lonr, geoRange latr, geoCell cell, geoArea *area);
/* The centre of a 52-bit score's cell (clamped to the valid ranges):
 * xy[0] longitude, xy[1] latitude. */
void geohashDecodeScore(double score, double xy[2]);
int geohashScore(double lon, double lat, double *score);
/* buf gets 11 characters and a NUL. */
void geohashString(double score, char buf[12]);

/* out: north, south, east, west, north-east, north-west, south-east,
 * south-west (wrapping around at the edges of the square). */
void geohashNeighbours(geoCell cell, geoCell out[8]);

double geohashDistance(double lon1, double lat1, double lon2, double lat2);
double geohashLatDistance(double lat1, double lat2);
int geohashEstimateSteps(double meters, double lat);

/* cells: the centre's cell, then the neighbours in geohashNeighbours's
 * order; the ones to skip are {0, 0}. Returns 9. */
int geohashSearchCells(const geoShape *shape, geoCell cells[9]);
/* The scores of a cell's members: min <= score < max. */
void geohashCellScores(geoCell cell, double *min, double *max);
/* 1 when xy is in the shape, with *dist its distance from the centre in
 * meters; else 0. */
int geohashShapeContains(const geoShape *shape, const double xy[2], double *dist);

#endif
