/* config.h -- configuration: one table of options (name, type, default,
 * limits, mutability), the conf file, --name value overrides, CONFIG GET/SET.
 *
 * API:
 *   configInitDefaults()               every option to its default
 *   configLoadFile(path, err)          Redis-style "name value" lines
 *   configLoadArgs(argc, argv, err)    "--name value ..." from the command line
 *   configSet(name, value, startup, err)  one option (CONFIG SET, file, args)
 *   configGet(pattern, fn, pd)         every option matching a glob
 *   configCanonicalName / configIsMutable
 * err is set to a static or buffer-held message on failure (C_ERR). */
#ifndef RINGKV_CONFIG_H
#define RINGKV_CONFIG_H

#include "util.h"

void configInitDefaults(void);
int configLoadFile(const char *path, char *err, size_t errlen);
int configLoadArgs(int argc, char **argv, char *err, size_t errlen);
int configLoadText(const char *text, size_t len, char *err, size_t errlen);
int configSet(const char *name, const char *value, int startup, char *err, size_t errlen);
typedef void configGetFn(const char *name, const char *value, void *pd);
void configGet(const char *pattern, configGetFn *fn, void *pd);
/* The current value as text (into out); C_ERR if there is no such option. */
int configGetValue(const char *name, buf *out);
/* The option's own name (for a case-insensitive match), NULL if unknown. */
const char *configCanonicalName(const char *name);
int configIsMutable(const char *name);

#endif
