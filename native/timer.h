/* The scheduler's wake-up timer (timer.c), registered on the addon's exports by sendmmsg.c. */
#ifndef STREAMLAB_TIMER_H
#define STREAMLAB_TIMER_H
#include <node_api.h>

void timer_register(napi_env env, napi_value exports);

#endif
