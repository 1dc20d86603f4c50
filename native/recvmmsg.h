/* The batched reader of a UDP socket (recvmmsg.c), registered on the addon's exports by sendmmsg.c. */
#ifndef STREAMLAB_RECVMMSG_H
#define STREAMLAB_RECVMMSG_H
#include <node_api.h>

void recv_register(napi_env env, napi_value exports);

#endif
