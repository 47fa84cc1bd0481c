/* test_conf_file.c -- conf/ringkv.conf and the option table (config.c)
 * agree.
 *
 * The conf file documents every option and sets each to its default, so
 * that an operator who copies it changes nothing by accident. Three checks:
 * the file loads; every option the table has (as CONFIG GET * reports them,
 * so an option added later is covered without touching this test) has one
 * uncommented line in the file; and after loading the file every option
 * still has its default value.
 *
 * The unit tests run from the repository root (make unit). */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "server.h"

#define CONF_PATH "conf/ringkv.conf"

/* ------------------------------------------------------------- helpers */

typedef struct optList {
    char **name;
    char **value;
    int n, cap;
} optList;

static void collect(const char *name, const char *value, void *pd) {
    optList *l = pd;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->name = realloc(l->name, sizeof(char *) * (size_t)l->cap);
        l->value = realloc(l->value, sizeof(char *) * (size_t)l->cap);
        cr_assert(l->name && l->value);
    }
    l->name[l->n] = strdup(name);
    l->value[l->n] = strdup(value);
    l->n++;
}

static void optListFree(optList *l) {
    for (int i = 0; i < l->n; i++) {
        free(l->name[i]);
        free(l->value[i]);
    }
    free(l->name);
    free(l->value);
    memset(l, 0, sizeof(*l));
}

/* Every option with its value right after configInitDefaults(). */
static void defaults(optList *l) {
    memset(l, 0, sizeof(*l));
    configInitDefaults();
    configGet("*", collect, l);
    cr_assert_gt(l->n, 0, "configGet(\"*\") reported no options");
}

static char *readConf(void) {
    FILE *fp = fopen(CONF_PATH, "r");
    cr_assert_not_null(fp, "can't open %s (unit tests run from the repository root)", CONF_PATH);
    size_t cap = 1 << 16, len = 0, n;
    char *text = malloc(cap);
    while ((n = fread(text + len, 1, cap - len - 1, fp)) > 0) {
        len += n;
        if (cap - len < 2) text = realloc(text, cap *= 2);
    }
    fclose(fp);
    text[len] = '\0';
    return text;
}

/* How many uncommented lines of text set option name (first word). */
static int optionLines(const char *text, const char *name) {
    int count = 0;
    size_t nl = strlen(name);
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        if (!eol) eol = p + strlen(p);
        const char *s = p;
        while (s < eol && isspace((unsigned char)*s)) s++;
        if (s < eol && *s != '#' && (size_t)(eol - s) > nl && !strncmp(s, name, nl) &&
            isspace((unsigned char)s[nl]))
            count++;
        p = *eol ? eol + 1 : eol;
    }
    return count;
}

/* --------------------------------------------------------------- tests */

TestSuite(conf_file);

Test(conf_file, loads) {
    char err[512] = "";
    configInitDefaults();
    cr_assert_eq(configLoadFile(CONF_PATH, err, sizeof(err)), C_OK, "%s does not load: %s",
                 CONF_PATH, err);
}

Test(conf_file, documents_every_option_once) {
    optList l;
    defaults(&l);
    char *text = readConf();
    for (int i = 0; i < l.n; i++) {
        int lines = optionLines(text, l.name[i]);
        cr_expect_eq(lines, 1,
                     "option '%s' has %d uncommented lines in %s (expected exactly 1: "
                     "document it and set it to its default, '%s')",
                     l.name[i], lines, CONF_PATH, l.value[i]);
    }
    free(text);
    optListFree(&l);
}

Test(conf_file, sets_exactly_the_defaults) {
    optList l;
    defaults(&l);
    char err[512] = "";
    cr_assert_eq(configLoadFile(CONF_PATH, err, sizeof(err)), C_OK, "%s does not load: %s",
                 CONF_PATH, err);
    buf v;
    bufInit(&v);
    for (int i = 0; i < l.n; i++) {
        cr_assert_eq(configGetValue(l.name[i], &v), C_OK, "no option '%s'", l.name[i]);
        const char *got = v.ptr ? v.ptr : "";
        cr_expect_str_eq(got, l.value[i], "%s sets '%s' to '%s', its default is '%s'", CONF_PATH,
                         l.name[i], got, l.value[i]);
    }
    bufFree(&v);
    optListFree(&l);
}
