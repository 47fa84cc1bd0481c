/* test_util.c -- number parsing and formatting, glob matching, sizes,
 * argument splitting and byte buffers (util.c).
 *
 * These decide what users see for INCR/INCRBYFLOAT, KEYS/SCAN MATCH,
 * CONFIG values and inline commands, so the expectations are Redis's own
 * (util.c / sds.c of Redis 7), including the odd corners its test suite
 * checks. */
#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

/* ---------------------------------------------------------- string2ll */

static int ll(const char *s, long long *v) { return string2ll(s, strlen(s), v); }

Test(string2ll, accepts_canonical) {
    long long v;
    cr_assert(ll("0", &v));
    cr_assert_eq(v, 0);
    cr_assert(ll("1", &v));
    cr_assert_eq(v, 1);
    cr_assert(ll("-1", &v));
    cr_assert_eq(v, -1);
    cr_assert(ll("1234567890", &v));
    cr_assert_eq(v, 1234567890);
    cr_assert(ll("-99", &v));
    cr_assert_eq(v, -99);
    cr_assert(ll("9223372036854775807", &v));
    cr_assert_eq(v, LLONG_MAX);
    cr_assert(ll("-9223372036854775808", &v));
    cr_assert_eq(v, LLONG_MIN);
    cr_assert(ll("10", &v));
    cr_assert_eq(v, 10);
}

Test(string2ll, rejects_non_canonical) {
    long long v = 77;
    const char *bad[] = {"",   "-",  "+1", " 1", "1 ",  "01", "00", "-0", "-01", "--1",
                         "1a", "a1", "0x10", "1.0", "1e3", "\t1", "1\n", "- 1", "+0", "١"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_not(ll(bad[i], &v), "'%s' must be rejected", bad[i]);
    cr_assert_eq(v, 77, "value untouched on failure");
}

Test(string2ll, overflow) {
    long long v;
    cr_assert_not(ll("9223372036854775808", &v));
    cr_assert_not(ll("-9223372036854775809", &v));
    cr_assert_not(ll("18446744073709551615", &v));
    cr_assert_not(ll("18446744073709551616", &v));
    cr_assert_not(ll("99999999999999999999999", &v));
    cr_assert_not(ll("-99999999999999999999999", &v));
}

Test(string2ll, uses_length_not_terminator) {
    long long v;
    cr_assert(string2ll("123456", 3, &v));
    cr_assert_eq(v, 123);
    cr_assert_not(string2ll("1\0002", 3, &v), "an embedded NUL is not a digit");
    cr_assert_not(string2ll("12", 0, &v));
    cr_assert(string2ll("-5xyz", 2, &v));
    cr_assert_eq(v, -5);
}

Test(string2ll, roundtrip_with_ll2string) {
    long long vals[] = {0, 1, -1, 9, 10, -10, 123456789, LLONG_MAX, LLONG_MIN, LLONG_MIN + 1};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        char b[32];
        int l = ll2string(b, sizeof(b), vals[i]);
        cr_assert_eq((size_t)l, strlen(b));
        long long v;
        cr_assert(string2ll(b, (size_t)l, &v));
        cr_assert_eq(v, vals[i]);
    }
    char b[32];
    cr_assert_eq(ll2string(b, sizeof(b), LLONG_MIN), 20);
    cr_assert_str_eq(b, "-9223372036854775808");
}

Test(ll2string, matches_printf_and_refuses_short_buffers) {
    unsigned long long x = 88172645463325252ULL; /* xorshift: every length and sign */
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        long long v = (long long)(x >> (i % 64));
        if (i & 1) v = -v;
        char want[32], got[32];
        int wl = snprintf(want, sizeof(want), "%lld", v);
        cr_assert_eq(ll2string(got, sizeof(got), v), wl);
        cr_assert_str_eq(got, want);
        cr_assert_eq(ll2string(got, (size_t)wl, v), 0, "no room for the NUL");
        cr_assert_eq(got[0], '\0');
        cr_assert_eq(ll2string(got, (size_t)wl + 1, v), wl);
        cr_assert_str_eq(got, want);
    }
    long long edges[] = {0, 9, 10, 99, 100, 999, 1000, 9999, 10000, 99999, 100000,
                         LLONG_MAX, LLONG_MIN, LLONG_MIN + 1};
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        char want[32], got[32];
        snprintf(want, sizeof(want), "%lld", edges[i]);
        ll2string(got, sizeof(got), edges[i]);
        cr_assert_str_eq(got, want);
    }
}

Test(string2ull, bounds) {
    unsigned long long v;
    cr_assert(string2ull("0", 1, &v));
    cr_assert_eq(v, 0);
    cr_assert(string2ull("18446744073709551615", 20, &v));
    cr_assert_eq(v, ULLONG_MAX);
    cr_assert_not(string2ull("18446744073709551616", 20, &v));
    cr_assert_not(string2ull("99999999999999999999", 20, &v));
    cr_assert_not(string2ull("100000000000000000000", 21, &v));
    cr_assert_not(string2ull("-1", 2, &v));
    cr_assert_not(string2ull("+1", 2, &v));
    cr_assert_not(string2ull("01", 2, &v));
    cr_assert_not(string2ull("", 0, &v));
    cr_assert_not(string2ull("1 ", 2, &v));
    cr_assert(string2ull("9223372036854775808", 19, &v));
    cr_assert_eq(v, 9223372036854775808ULL);
}

/* ---------------------------------------------------------- string2ld */

static int ld(const char *s, long double *v) { return string2ld(s, strlen(s), v); }

Test(string2ld, accepts_numbers) {
    long double v;
    cr_assert(ld("1.5", &v));
    cr_assert_eq(v, 1.5L);
    cr_assert(ld("-0.25", &v));
    cr_assert_eq(v, -0.25L);
    cr_assert(ld("10", &v));
    cr_assert_eq(v, 10.0L);
    cr_assert(ld("3.0e3", &v));
    cr_assert_eq(v, 3000.0L);
    cr_assert(ld("5e-1", &v));
    cr_assert_eq(v, 0.5L);
    cr_assert(ld(".5", &v));
    cr_assert_eq(v, 0.5L);
    cr_assert(ld("+2", &v), "strtold rules: a sign is fine for floats");
    cr_assert_eq(v, 2.0L);
    cr_assert(ld("007", &v));
    cr_assert_eq(v, 7.0L);
}

Test(string2ld, rejects_spaces_and_garbage) {
    long double v = 42;
    const char *bad[] = {"", " 1", "1 ", "\t1", "1\n", "abc", "1.5x", "1,5", "--1", "1e", "."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_not(ld(bad[i], &v), "'%s' must be rejected", bad[i]);
    cr_assert_eq(v, 42);
    cr_assert_not(string2ld("1\0002", 3, &v), "embedded NUL");
}

Test(string2ld, rejects_nan) {
    long double v;
    cr_assert_not(ld("nan", &v));
    cr_assert_not(ld("NaN", &v));
    cr_assert_not(ld("-nan", &v));
    cr_assert_not(ld("nan(123)", &v));
}

Test(string2ld, rejects_overflow_and_underflow) {
    long double v;
    cr_assert_not(ld("1e5000", &v));
    cr_assert_not(ld("-1e5000", &v));
    cr_assert_not(ld("1e-5000", &v));
}

Test(string2ld, infinity_parses_so_incrbyfloat_can_refuse_it) {
    /* Redis's string2ld lets "inf" through: INCRBYFLOAT then answers
     * "increment would produce NaN or Infinity", which Redis's own test
     * (INCRBYFLOAT does not allow NaN or Infinity) expects. Refusing it here
     * would turn that into "value is not a valid float". */
    long double v;
    cr_assert(ld("inf", &v));
    cr_assert(isinf(v) && v > 0);
    cr_assert(ld("+inf", &v));
    cr_assert(isinf(v) && v > 0);
    cr_assert(ld("-inf", &v));
    cr_assert(isinf(v) && v < 0);
}

Test(string2ld, too_long_input) {
    size_t n = 6000;
    char *s = malloc(n);
    memset(s, '1', n);
    long double v;
    cr_assert_not(string2ld(s, n, &v), "longer than any float Redis accepts");
    free(s);
}

/* ---------------------------------------------------------- ld2string */

static void ldfmt(long double v, const char *want) {
    char b[5120];
    int l = ld2string(b, sizeof(b), v);
    cr_assert_eq((size_t)l, strlen(want), "%.20Lg: got '%.*s' want '%s'", v, l, b, want);
    cr_assert(!memcmp(b, want, (size_t)l), "got '%.*s' want '%s'", l, b, want);
    cr_assert_eq(b[l], '\0');
}

Test(ld2string, as_incrbyfloat_prints) {
    ldfmt(10.5L + 0.1L, "10.6");
    ldfmt(3.0e3L, "3000");
    ldfmt(5.0e3L, "5000");
    ldfmt(1.0L, "1");
    ldfmt(1.5L, "1.5");
    ldfmt(1.25L, "1.25");
    ldfmt(-2.5L, "-2.5");
    ldfmt(0.0L, "0");
    ldfmt(-0.0L, "0");
    ldfmt(1.0L - 1.1L, "-0.1");
    ldfmt(0.1L + 0.2L, "0.3");
    ldfmt(1.0L / 3.0L, "0.33333333333333333");
    ldfmt(1e20L, "100000000000000000000");
    ldfmt(-17.0L, "-17");
    ldfmt(100.0L, "100");
    ldfmt(0.5L, "0.5");
    ldfmt(1e-17L, "0.00000000000000001");
    ldfmt(1e-18L, "0");
}

Test(ld2string, incrbyfloat_sequences) {
    /* what Redis's test suite sees: INCRBYFLOAT 10.5 then 0.1 and friends */
    long double v = 0;
    long double steps[] = {10.5L, 0.1L};
    v += steps[0];
    ldfmt(v, "10.5");
    v += steps[1];
    ldfmt(v, "10.6");
    long double r;
    char b[64];
    int l = ld2string(b, sizeof(b), 1.0L);
    cr_assert(string2ld(b, (size_t)l, &r));
    r += -1.1L;
    ldfmt(r, "-0.1");
}

Test(ld2string, infinities_and_no_room) {
    ldfmt(INFINITY, "inf");
    ldfmt(-INFINITY, "-inf");
    char b[4];
    cr_assert_eq(ld2string(b, sizeof(b), 12345.5L), 0, "no room: 0, as Redis");
    char big[5120];
    cr_assert_gt(ld2string(big, sizeof(big), 1e300L), 300);
}

Test(d2string, resp_doubles) {
    char b[64];
    cr_assert_eq(d2string(b, sizeof(b), 1.5), 3);
    cr_assert_str_eq(b, "1.5");
    d2string(b, sizeof(b), 3.0);
    cr_assert_str_eq(b, "3");
    d2string(b, sizeof(b), -0.5);
    cr_assert_str_eq(b, "-0.5");
    d2string(b, sizeof(b), INFINITY);
    cr_assert_str_eq(b, "inf");
    d2string(b, sizeof(b), -INFINITY);
    cr_assert_str_eq(b, "-inf");
    d2string(b, sizeof(b), NAN);
    cr_assert_str_eq(b, "nan");
    d2string(b, sizeof(b), 0.1);
    char *end;
    cr_assert_eq(strtod(b, &end), 0.1, "17 digits: reads back exactly");
}

/* ------------------------------------------------------------ memtoull */

static unsigned long long mem(const char *s, int *err) { return memtoull(s, err); }

Test(memtoull, units) {
    int err = 7;
    cr_assert_eq(mem("1gb", &err), 1073741824ULL);
    cr_assert_eq(err, 0);
    cr_assert_eq(mem("512mb", &err), 512ULL * 1024 * 1024);
    cr_assert_eq(mem("4kb", &err), 4096);
    cr_assert_eq(mem("1k", &err), 1000);
    cr_assert_eq(mem("1m", &err), 1000000);
    cr_assert_eq(mem("2g", &err), 2000000000ULL);
    cr_assert_eq(mem("100", &err), 100);
    cr_assert_eq(mem("100b", &err), 100);
    cr_assert_eq(mem("100B", &err), 100);
    cr_assert_eq(mem("1GB", &err), 1073741824ULL);
    cr_assert_eq(mem("1Gb", &err), 1073741824ULL);
    cr_assert_eq(mem("3KB", &err), 3072);
    cr_assert_eq(mem("0", &err), 0);
    cr_assert_eq(err, 0);
    cr_assert_eq(mem("0mb", &err), 0);
    cr_assert_eq(err, 0);
    cr_assert_eq(mem("18446744073709551615", &err), ULLONG_MAX);
    cr_assert_eq(err, 0);
    cr_assert_eq(mem("17179869183gb", &err), 17179869183ULL << 30);
    cr_assert_eq(err, 0);
    cr_assert_eq(mem("5gb", NULL), 5ULL << 30, "err may be NULL");
}

Test(memtoull, bad_input) {
    const char *bad[] = {"",     "gb",   "abc",  "1tb", "1 gb", " 1",   "1gb ", "-1",
                         "-1gb", "1.5gb", "1kbb", "1x",  "1e3", "kb1", "18446744073709551616",
                         "18446744073709551615kb", "17179869184gb"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int err = 0;
        unsigned long long v = mem(bad[i], &err);
        cr_assert_eq(err, 1, "'%s' must be an error", bad[i]);
        cr_assert_eq(v, 0);
    }
    cr_assert_eq(mem("junk", NULL), 0);
}

/* ------------------------------------------------------ stringmatchlen */

static int match(const char *p, const char *s) {
    return stringmatchlen(p, (int)strlen(p), s, (int)strlen(s), 0);
}
static int imatch(const char *p, const char *s) {
    return stringmatchlen(p, (int)strlen(p), s, (int)strlen(s), 1);
}

Test(stringmatch, star_and_question) {
    cr_assert(match("*", "anything"));
    cr_assert(match("*", ""));
    cr_assert(match("**", ""));
    cr_assert(match("", ""));
    cr_assert_not(match("", "a"));
    cr_assert_not(match("a", ""));
    cr_assert(match("h*o", "hello"));
    cr_assert(match("h*o", "ho"));
    cr_assert_not(match("h*o", "hellox"));
    cr_assert(match("*llo", "hello"));
    cr_assert(match("hel*", "hello"));
    cr_assert(match("h*l*o", "hello"));
    cr_assert(match("*l*", "hello"));
    cr_assert(match("h***o", "hello"));
    cr_assert(match("user:*:name", "user:1000:name"));
    cr_assert_not(match("user:*:name", "user:1000:age"));
    cr_assert(match("h?llo", "hello"));
    cr_assert(match("h?llo", "hallo"));
    cr_assert_not(match("h?llo", "hllo"));
    cr_assert(match("???", "abc"));
    cr_assert_not(match("???", "ab"));
    cr_assert_not(match("???", "abcd"));
    cr_assert(match("?*", "a"));
    cr_assert_not(match("?*", ""));
    cr_assert(match("a*", "a"));
    cr_assert(match("a**", "a"));
    cr_assert_not(match("a*b", "a"));
}

Test(stringmatch, classes) {
    cr_assert(match("h[ae]llo", "hello"));
    cr_assert(match("h[ae]llo", "hallo"));
    cr_assert_not(match("h[ae]llo", "hillo"));
    cr_assert(match("h[a-c]llo", "hbllo"));
    cr_assert_not(match("h[a-c]llo", "hdllo"));
    cr_assert(match("h[c-a]llo", "hbllo"), "reversed range");
    cr_assert(match("h[^e]llo", "hallo"));
    cr_assert_not(match("h[^e]llo", "hello"));
    cr_assert(match("h[^a-c]llo", "hdllo"));
    cr_assert_not(match("h[^a-c]llo", "hbllo"));
    cr_assert(match("[0-9][0-9]", "42"));
    cr_assert_not(match("[0-9][0-9]", "4x"));
    cr_assert(match("[-ab]", "-"), "'-' first is literal");
    cr_assert(match("[\\]]", "]"), "escaped ']' in a class");
    cr_assert(match("[\\-]", "-"));
    cr_assert(match("[a\\-z]", "-"));
    cr_assert_not(match("[a\\-z]", "b"));
    cr_assert_not(match("[a]", ""));
    /* an unterminated class ends at the end of the pattern, as Redis */
    cr_assert(match("[ab", "a"));
    cr_assert_not(match("[ab", "c"));
    cr_assert(match("x[*]", "x*"));
    cr_assert_not(match("x[*]", "xy"));
}

Test(stringmatch, escapes) {
    cr_assert(match("\\*", "*"));
    cr_assert_not(match("\\*", "a"));
    cr_assert(match("a\\?b", "a?b"));
    cr_assert_not(match("a\\?b", "axb"));
    cr_assert(match("\\[a]", "[a]"));
    cr_assert(match("\\\\", "\\"));
    cr_assert(match("a\\", "a\\"), "a trailing backslash is literal");
    cr_assert(match("\\h\\e", "he"), "escaping a plain char");
}

Test(stringmatch, nocase) {
    cr_assert(imatch("HELLO", "hello"));
    cr_assert(imatch("h*O", "HellO"));
    cr_assert(imatch("h[A-C]llo", "hbllo"));
    cr_assert(imatch("h[a-c]llo", "HBLLO"));
    cr_assert(imatch("[XYZ]", "y"));
    cr_assert_not(match("HELLO", "hello"));
    cr_assert_not(match("h[A-C]llo", "hbllo"));
    cr_assert(imatch("maxclients", "MaxClients"));
}

Test(stringmatch, binary_safe) {
    cr_assert(stringmatchlen("a\0*", 3, "a\0bc", 4, 0));
    cr_assert_not(stringmatchlen("a\0*", 3, "a\1bc", 4, 0));
    cr_assert(stringmatchlen("?", 1, "\0", 1, 0));
    cr_assert(stringmatchlen("*", 1, "\xff\xfe", 2, 0));
    cr_assert(stringmatchlen("[\x80-\xff]", 5, "\xc3", 1, 0), "bytes compare unsigned");
}

Test(stringmatch, long_nested_stars_terminate, .timeout = 10) {
    /* Redis's "Regression for pattern matching long nested loops": KEYS
     * with a pattern of many stars against a long key must answer at once,
     * not after exponential backtracking (a one line DoS otherwise). */
    const char *pat = "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*"
                      "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
    char key[200];
    memset(key, 'a', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    clock_t t0 = clock();
    cr_assert_not(match(pat, key));
    cr_assert_not(match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", key));
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    cr_assert_lt(secs, 1.0, "took %.2fs", secs);
    cr_assert(match("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a", key));
}

/* The textbook dynamic-programming glob over '*' and '?' only. */
static int refMatch(const char *p, int pl, const char *s, int sl) {
    char m[16][16];
    memset(m, 0, sizeof(m));
    m[0][0] = 1;
    for (int i = 1; i <= pl; i++) m[i][0] = m[i - 1][0] && p[i - 1] == '*';
    for (int i = 1; i <= pl; i++)
        for (int j = 1; j <= sl; j++) {
            if (p[i - 1] == '*') m[i][j] = m[i - 1][j] || m[i][j - 1];
            else m[i][j] = m[i - 1][j - 1] && (p[i - 1] == '?' || p[i - 1] == s[j - 1]);
        }
    return m[pl][sl];
}

Test(stringmatch, stars_agree_with_reference) {
    /* the early exit for long nested stars must not change any answer */
    unsigned seed = 7;
    for (int round = 0; round < 50000; round++) {
        char p[12], s[12];
        seed = seed * 1103515245u + 12345u;
        int pl = (int)((seed >> 16) % 10), sl = (int)((seed >> 8) % 11);
        for (int i = 0; i < pl; i++) {
            seed = seed * 1103515245u + 12345u;
            p[i] = "ab*?*"[(seed >> 16) % 5];
        }
        for (int i = 0; i < sl; i++) {
            seed = seed * 1103515245u + 12345u;
            s[i] = "ab"[(seed >> 16) % 2];
        }
        cr_assert_eq(stringmatchlen(p, pl, s, sl, 0), refMatch(p, pl, s, sl),
                     "pattern '%.*s' string '%.*s'", pl, p, sl, s);
    }
}

/* ---------------------------------------------------------- splitArgs */

static int split(const char *line, char ***argv, size_t **argl) {
    return splitArgs(line, strlen(line), argv, argl);
}

static void expectSplit(const char *line, int argc, const char **want, const size_t *wl) {
    char **argv;
    size_t *argl;
    int n = split(line, &argv, &argl);
    cr_assert_eq(n, argc, "'%s': %d args, want %d", line, n, argc);
    for (int i = 0; i < argc; i++) {
        size_t l = wl ? wl[i] : strlen(want[i]);
        cr_assert_eq(argl[i], l, "'%s' arg %d len %zu want %zu", line, i, argl[i], l);
        cr_assert(!memcmp(argv[i], want[i], l), "'%s' arg %d", line, i);
    }
    freeSplitArgs(argv, argl, n);
}

static void expectSplitError(const char *line) {
    char **argv = (char **)1;
    size_t *argl = (size_t *)1;
    cr_assert_eq(split(line, &argv, &argl), -1, "'%s' must fail", line);
    cr_assert_null(argv);
    cr_assert_null(argl);
}

Test(splitArgs, plain_words) {
    const char *w[] = {"set", "key", "value"};
    expectSplit("set key value", 3, w, NULL);
    expectSplit("  set\tkey \r\n value  ", 3, w, NULL);
    expectSplit("", 0, NULL, NULL);
    expectSplit("   \t ", 0, NULL, NULL);
    const char *one[] = {"x"};
    expectSplit("x", 1, one, NULL);
}

Test(splitArgs, double_quotes) {
    const char *w[] = {"set", "a b", ""};
    expectSplit("set \"a b\" \"\"", 3, w, NULL);
    const char *esc[] = {"a\"b\\c\n\r\t\b\az"};
    expectSplit("\"a\\\"b\\\\c\\n\\r\\t\\b\\a\\z\"", 1, esc, NULL);
    const char *hex[] = {"AB\xff", "\x00"};
    const size_t hl[] = {3, 1};
    expectSplit("\"\\x41\\x42\\xff\" \"\\x00\"", 2, hex, hl);
    const char *upper[] = {"\xab"};
    expectSplit("\"\\xAb\"", 1, upper, NULL);
    /* not a hex escape: "\x" followed by non-hex is a plain 'x' */
    const char *nothex[] = {"xg1"};
    expectSplit("\"\\xg1\"", 1, nothex, NULL);
    const char *short4[] = {"x4"};
    expectSplit("\"\\x4\"", 1, short4, NULL);
    /* a quote opened inside a word joins the word */
    const char *join[] = {"foobar baz"};
    expectSplit("foo\"bar baz\"", 1, join, NULL);
}

Test(splitArgs, single_quotes) {
    const char *w[] = {"it's", "a \\n b", ""};
    expectSplit("'it\\'s' 'a \\n b' ''", 3, w, NULL);
    const char *dq[] = {"say \"hi\""};
    expectSplit("'say \"hi\"'", 1, dq, NULL);
}

Test(splitArgs, errors) {
    expectSplitError("\"abc");
    expectSplitError("'abc");
    expectSplitError("set \"a b");
    expectSplitError("\"a\"b");
    expectSplitError("'a'b");
    expectSplitError("\"a\"\"b\"");
    expectSplitError("ok \"trailing\\\"");
    expectSplitError("\"");
    expectSplitError("'");
    expectSplitError("\"\\x4");
}

Test(splitArgs, closing_quote_then_space_is_fine) {
    const char *w[] = {"a", "b"};
    expectSplit("\"a\" 'b'", 2, w, NULL);
    expectSplit("\"a\"\t'b'\n", 2, w, NULL);
}

Test(splitArgs, uses_length) {
    char **argv;
    size_t *argl;
    int n = splitArgs("abc def ghi", 7, &argv, &argl);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(argv[1], "def");
    freeSplitArgs(argv, argl, n);
    /* a quote cut off by the length is unbalanced */
    n = splitArgs("\"abc\" x", 4, &argv, &argl);
    cr_assert_eq(n, -1);
}

Test(splitArgs, many_args) {
    buf b;
    bufInit(&b);
    for (int i = 0; i < 1000; i++) bufPrintf(&b, "%sarg%d", i ? " " : "", i);
    char **argv;
    size_t *argl;
    int n = splitArgs(b.ptr, b.len, &argv, &argl);
    cr_assert_eq(n, 1000);
    cr_assert_str_eq(argv[999], "arg999");
    cr_assert_eq(argl[999], 6);
    freeSplitArgs(argv, argl, n);
    bufFree(&b);
}

/* ------------------------------------------------------------- buffers */

Test(buf, append_and_terminator) {
    buf b;
    bufInit(&b);
    cr_assert_eq(b.len, 0);
    cr_assert_null(b.ptr);
    bufAppend(&b, "abc", 3);
    cr_assert_eq(b.len, 3);
    cr_assert_str_eq(b.ptr, "abc");
    bufAppend(&b, "\0x", 2);
    cr_assert_eq(b.len, 5);
    cr_assert(!memcmp(b.ptr, "abc\0x", 6), "binary safe, NUL terminated");
    bufAppend(&b, "", 0);
    cr_assert_eq(b.len, 5);
    bufAppendStr(&b, "yz");
    cr_assert_eq(b.len, 7);
    cr_assert(!memcmp(b.ptr, "abc\0xyz", 8));
    bufFree(&b);
    cr_assert_null(b.ptr);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.cap, 0);
}

Test(buf, grows_large) {
    buf b;
    bufInit(&b);
    for (int i = 0; i < 100000; i++) bufAppend(&b, "0123456789", 10);
    cr_assert_eq(b.len, 1000000);
    cr_assert_geq(b.cap, b.len);
    for (size_t i = 0; i < b.len; i++) cr_assert_eq(b.ptr[i], '0' + (char)(i % 10));
    cr_assert_eq(b.ptr[b.len], '\0');
    bufFree(&b);
}

Test(buf, reserve) {
    buf b;
    bufInit(&b);
    bufReserve(&b, 0);
    cr_assert_not_null(b.ptr, "reserve allocates so ptr can be written");
    bufReserve(&b, 1000);
    cr_assert_geq(b.cap - b.len, 1000);
    char *p = b.ptr;
    bufAppend(&b, "x", 1);
    cr_assert_eq(b.ptr, p, "no realloc within reserved room");
    bufFree(&b);
}

Test(buf, printf_short_and_long) {
    buf b;
    bufInit(&b);
    bufPrintf(&b, "%d-%s", 42, "x");
    cr_assert_str_eq(b.ptr, "42-x");
    char big[1000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    bufPrintf(&b, "[%s]", big);
    cr_assert_eq(b.len, 4 + 1001);
    cr_assert_eq(b.ptr[4], '[');
    cr_assert_eq(b.ptr[5 + 998], 'q');
    cr_assert_eq(b.ptr[b.len - 1], ']');
    cr_assert_eq(b.ptr[b.len], '\0');
    bufPrintf(&b, "%s", "");
    cr_assert_eq(b.len, 1005);
    bufFree(&b);
}

Test(buf, clear_and_consume) {
    buf b;
    bufInit(&b);
    bufClear(&b); /* on an empty buffer */
    bufConsume(&b, 3);
    cr_assert_eq(b.len, 0);
    bufAppendStr(&b, "hello world");
    bufConsume(&b, 6);
    cr_assert_eq(b.len, 5);
    cr_assert_str_eq(b.ptr, "world");
    bufConsume(&b, 0);
    cr_assert_str_eq(b.ptr, "world");
    bufConsume(&b, 100);
    cr_assert_eq(b.len, 0);
    cr_assert_str_eq(b.ptr, "");
    bufAppendStr(&b, "again");
    bufClear(&b);
    cr_assert_eq(b.len, 0);
    cr_assert_str_eq(b.ptr, "");
    cr_assert_gt(b.cap, 0, "clear keeps the allocation");
    bufFree(&b);
}

/* ---------------------------------------------------------- memory, misc */

Test(alloc, wrappers) {
    char *p = zmalloc(0);
    cr_assert_not_null(p);
    zfree(p);
    int *z = zcalloc(sizeof(int) * 16);
    for (int i = 0; i < 16; i++) cr_assert_eq(z[i], 0);
    z = zrealloc(z, sizeof(int) * 1024);
    z[1023] = 5;
    zfree(z);
    char *s = zstrdup("dup");
    cr_assert_str_eq(s, "dup");
    zfree(s);
    char *m = zmemdup("a\0b", 3);
    cr_assert(!memcmp(m, "a\0b", 3));
    zfree(m);
    zfree(zmemdup("", 0));
    zfree(NULL);
}

Test(misc, clocks_and_random) {
    long long a = ustime(), b = mstime();
    cr_assert_gt(a, 1600000000000000LL);
    cr_assert(b >= a / 1000 - 1000 && b <= a / 1000 + 1000);
    uint64_t m1 = monotonic_us(), m2 = monotonic_us();
    cr_assert_geq(m2, m1);
    unsigned char r1[32], r2[32];
    getRandomBytes(r1, sizeof(r1));
    getRandomBytes(r2, sizeof(r2));
    cr_assert(memcmp(r1, r2, sizeof(r1)), "two random draws differ");
    char hex[301];
    getRandomHex(hex, 300);
    hex[300] = '\0';
    for (int i = 0; i < 300; i++) cr_assert(strchr("0123456789abcdef", hex[i]), "hex char");
}

Test(util, loopback_addresses) {
    cr_assert(isLoopbackAddr("127.0.0.1"));
    cr_assert(isLoopbackAddr("127.0.0.11"));
    cr_assert(isLoopbackAddr("::1"));
    cr_assert(isLoopbackAddr("::ffff:127.0.0.1"));
    cr_assert(!isLoopbackAddr("10.0.0.1"));
    cr_assert(!isLoopbackAddr("192.168.1.127"));
    cr_assert(!isLoopbackAddr("::ffff:10.1.2.3"));
    cr_assert(!isLoopbackAddr("fe80::1"));
}
