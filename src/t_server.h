/* t_server.h -- connection and server commands (t_server.c): PING, ECHO,
 * QUIT, AUTH, HELLO, RESET, CLIENT, TIME, SHUTDOWN, FUNCTION, CONFIG.
 *
 * API: the handlers below (rows of commands.c's table). */
#ifndef RINGKV_T_SERVER_H
#define RINGKV_T_SERVER_H

#include "request.h"

void pingCommand(request *r);
void echoCommand(request *r);
void quitCommand(request *r);
void authCommand(request *r);
void helloCommand(request *r);
void resetCommand(request *r);
void clientCommand(request *r);
void timeCommand(request *r);
void shutdownCommand(request *r);
void functionCommand(request *r);
void configCommand(request *r);
void objectCommand(request *r);
void memoryCommand(request *r);

#endif
