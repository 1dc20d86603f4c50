/* Argument checks shared by the addon's units (sendmmsg.c, recvmmsg.c, stream-poll.c). */
#ifndef STREAMLAB_NAPI_ARGS_H
#define STREAMLAB_NAPI_ARGS_H
#include <node_api.h>
#include <stddef.h>

/* Throws a TypeError with `msg`; returns NULL for the caller to return. */
static inline napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* True when `v` is a typed array of type `want`: its data and element count are set. */
static inline int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, data, &ab, &offset) != napi_ok) return 0;
  return type == want;
}

#endif
