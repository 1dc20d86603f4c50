/* The batched reader of many TCP connections (stream-poll.c), registered on the addon's exports by sendmmsg.c. */
#ifndef STREAMLAB_STREAM_POLL_H
#define STREAMLAB_STREAM_POLL_H
#include <node_api.h>

void stream_poll_register(napi_env env, napi_value exports);

#endif
