/*
 * A one-shot wake-up timer with nanosecond resolution for the scheduler (src/transport/
 * precise-timer.ts): a timerfd (CLOCK_MONOTONIC, the clock performance.now() reads) watched by
 * the event loop. Node's own timers count whole milliseconds: a task due at 21.33 ms runs at 22,
 * and an AAC stream's 21.33 ms period sent at whole milliseconds is late by 0, 0.67 and 0.33 ms in
 * turn, which a receiver's RFC 3550 jitter reads as ~0.44 ms of jitter on a perfect network.
 *
 * timerStart(callback)  once per thread: callback() is called (like a timer's, with the
 *                       microtasks and process.nextTick queue run after it) each time the timer
 *                       fires. An exception it throws is the process's uncaught exception.
 * timerArm(delayMs)     (re)arms the timer to fire once, delayMs (fractional) from now; an armed
 *                       timer keeps the event loop alive, as a pending setTimeout does.
 * timerStop()           disarms it.
 *
 * The fd stays registered with the loop for the thread's life (no epoll_ctl per arm): an armed
 * timer refs the handle, a fired or stopped one unrefs it. Arming again (timerfd_settime) clears
 * an expiry not yet read, so a callback that re-arms costs one system call; one that does not
 * leaves the timer disarmed (one more). A fire the callback finds early (the loop saw the expiry,
 * then something re-armed the timer before the callback ran) is the caller's to ignore: the JS
 * side compares its due times with the clock.
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include "timer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <uv.h>

typedef struct {
  uv_poll_t poll;
  int fd;
  int armed;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  napi_async_cleanup_hook_handle cleanup;
} precise_timer;

static napi_value throw_error(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static precise_timer *current(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  return data;
}

static void set_time(precise_timer *t, int64_t ns) {
  struct itimerspec its;
  memset(&its, 0, sizeof its);
  its.it_value.tv_sec = ns / 1000000000;
  its.it_value.tv_nsec = ns % 1000000000;
  timerfd_settime(t->fd, 0, &its, NULL);
}

static void disarm(precise_timer *t) {
  set_time(t, 0);
  if (t->armed) uv_unref((uv_handle_t *)&t->poll);
  t->armed = 0;
}

static void on_fire(uv_poll_t *handle, int status, int events) {
  (void)status;
  (void)events;
  precise_timer *t = handle->data;
  napi_env env = t->env;
  if (t->armed) uv_unref((uv_handle_t *)&t->poll);
  t->armed = 0;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) {
    disarm(t);
    return;
  }
  napi_value fn, recv;
  napi_get_reference_value(env, t->callback, &fn);
  napi_get_global(env, &recv);
  if (napi_make_callback(env, t->context, recv, fn, 0, NULL, NULL) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
  /* Not armed again: clear the expiry, or the loop would report it again at once. */
  if (!t->armed) set_time(t, 0);
}

static void on_closed(uv_handle_t *handle) {
  precise_timer *t = handle->data;
  close(t->fd);
  napi_remove_async_cleanup_hook(t->cleanup);
  free(t);
}

/* The thread's environment is going away: close the handle (the loop must not keep it). */
static void on_cleanup(napi_async_cleanup_hook_handle handle, void *arg) {
  (void)handle;
  precise_timer *t = arg;
  uv_poll_stop(&t->poll);
  uv_close((uv_handle_t *)&t->poll, on_closed);
}

static napi_value TimerStart(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_valuetype type = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &type);
  if (type != napi_function) return throw_error(env, "timerStart(callback: () => void)");
  if (current(env)) return throw_error(env, "timerStart: already started in this thread");
  struct uv_loop_s *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_error(env, "timerStart: no event loop");
  precise_timer *t = calloc(1, sizeof *t);
  if (!t) return throw_error(env, "timerStart: out of memory");
  t->env = env;
  t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (t->fd < 0) {
    free(t);
    return throw_error(env, "timerStart: timerfd_create failed");
  }
  if (uv_poll_init(loop, &t->poll, t->fd) != 0) {
    close(t->fd);
    free(t);
    return throw_error(env, "timerStart: the event loop would not watch the timer");
  }
  t->poll.data = t;
  uv_poll_start(&t->poll, UV_READABLE, on_fire);
  uv_unref((uv_handle_t *)&t->poll);
  napi_value name;
  napi_create_string_utf8(env, "streamlab.timer", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &t->context);
  napi_create_reference(env, argv[0], 1, &t->callback);
  napi_add_async_cleanup_hook(env, on_cleanup, t, &t->cleanup);
  napi_set_instance_data(env, t, NULL, NULL);
  return NULL;
}

static napi_value TimerArm(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  double ms;
  if (argc < 1 || napi_get_value_double(env, argv[0], &ms) != napi_ok || isnan(ms)) return throw_error(env, "timerArm(delayMs: number)");
  precise_timer *t = current(env);
  if (!t) return throw_error(env, "timerArm: timerStart first");
  /* 0 would disarm a timerfd: the earliest is 1 ns. At most 2^31 ms (the caller steps longer waits). */
  double ns = ms * 1e6;
  set_time(t, ns < 1 ? 1 : ns > 2147483647e6 ? (int64_t)2147483647e6 : (int64_t)ns);
  if (!t->armed) uv_ref((uv_handle_t *)&t->poll);
  t->armed = 1;
  return NULL;
}

static napi_value TimerStop(napi_env env, napi_callback_info info) {
  (void)info;
  precise_timer *t = current(env);
  if (t) disarm(t);
  return NULL;
}

void timer_register(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "timerStart", NAPI_AUTO_LENGTH, TimerStart, NULL, &fn);
  napi_set_named_property(env, exports, "timerStart", fn);
  napi_create_function(env, "timerArm", NAPI_AUTO_LENGTH, TimerArm, NULL, &fn);
  napi_set_named_property(env, exports, "timerArm", fn);
  napi_create_function(env, "timerStop", NAPI_AUTO_LENGTH, TimerStop, NULL, &fn);
  napi_set_named_property(env, exports, "timerStop", fn);
}
