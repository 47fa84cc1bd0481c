/* t_bitops.h -- the bit commands over string values (t_bitops.c): their
 * handlers, rows of commands.c's table.
 *
 * API:
 *   setbitCommand, getbitCommand, bitcountCommand, bitposCommand, bitopCommand */
#ifndef RINGKV_T_BITOPS_H
#define RINGKV_T_BITOPS_H

#include "request.h"

void setbitCommand(request *r);
void getbitCommand(request *r);
void bitcountCommand(request *r);
void bitposCommand(request *r);
void bitopCommand(request *r);

#endif
