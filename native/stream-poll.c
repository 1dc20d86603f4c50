/*
 * Many TCP connections read in batches (src/transport/stream-drain.ts): an epoll set of the RTSP
 * connections that carry interleaved media, polled without waiting at the scheduler's wake-ups,
 * and each ready connection read once. A player's receiver reports (a few per second per client)
 * then cost no wake-up of the event loop and no pass through Node's stream machinery each.
 *
 * pollCreate() -> an epoll descriptor, or -errno
 * pollAdd(ep, fd) -> 0 or -errno
 *   Watches `fd` for input (level-triggered: data left unread is reported again) and turns
 *   SO_TIMESTAMPNS on, so that a read carries the kernel's arrival time of its last segment.
 * pollDel(ep, fd) -> 0 or -errno
 * pollClose(ep) -> 0 or -errno
 * pollRead(ep, arena, capBytes, fds, meta) -> connections read (0: none ready; -errno on an error)
 *   One epoll_wait(0) for up to min(fds.length, meta.length / 3, arena.length / capBytes,
 *   MAX_EVENTS) ready connections; each is read once (recvmsg, MSG_DONTWAIT) into the arena, up
 *   to capBytes, one after the other (a ready connection not read now, or with more than it read,
 *   is reported again at the next call: level-triggered).
 *   For connection i: fds[i] its descriptor; meta[3i] where its bytes start in the arena,
 *   meta[3i + 1] how many (0: the peer closed its side; -errno: an error, -EAGAIN when nothing
 *   was there after all), meta[3i + 2] their age in ms (CLOCK_REALTIME at the read minus the
 *   kernel's stamp; 0 without one). The arena is written during the call only.
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include "stream-poll.h"

#include "napi-args.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Ready connections per call. */
#define MAX_EVENTS 256

static napi_value int_result(napi_env env, int32_t v) {
  napi_value result;
  napi_create_int32(env, v, &result);
  return result;
}

/* The first `n` int32 arguments (descriptors: non-negative). */
static int descriptors(napi_env env, napi_callback_info info, size_t n, int32_t *out) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < n) return 0;
  for (size_t i = 0; i < n; i++)
    if (napi_get_value_int32(env, argv[i], &out[i]) != napi_ok || out[i] < 0) return 0;
  return 1;
}

static napi_value PollCreate(napi_env env, napi_callback_info info) {
  (void)info;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  return int_result(env, ep < 0 ? -errno : ep);
}

static napi_value PollAdd(napi_env env, napi_callback_info info) {
  int32_t a[2];
  if (!descriptors(env, info, 2, a)) return throw_type(env, "pollAdd(ep, fd)");
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.fd = a[1];
  if (epoll_ctl(a[0], EPOLL_CTL_ADD, a[1], &ev) != 0) return int_result(env, -errno);
  int on = 1;
  setsockopt(a[1], SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  return int_result(env, 0);
}

static napi_value PollDel(napi_env env, napi_callback_info info) {
  int32_t a[2];
  if (!descriptors(env, info, 2, a)) return throw_type(env, "pollDel(ep, fd)");
  return int_result(env, epoll_ctl(a[0], EPOLL_CTL_DEL, a[1], NULL) == 0 ? 0 : -errno);
}

static napi_value PollClose(napi_env env, napi_callback_info info) {
  int32_t a[1];
  if (!descriptors(env, info, 1, a)) return throw_type(env, "pollClose(ep)");
  return int_result(env, close(a[0]) == 0 ? 0 : -errno);
}

static napi_value PollRead(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) return throw_type(env, "pollRead(ep, arena, capBytes, fds, meta)");
  int32_t ep = -1;
  uint32_t cap = 0;
  if (napi_get_value_int32(env, argv[0], &ep) != napi_ok || ep < 0) return throw_type(env, "ep must be a descriptor");
  char *arena;
  size_t arenaLen;
  if (napi_get_buffer_info(env, argv[1], (void **)&arena, &arenaLen) != napi_ok) return throw_type(env, "arena must be a Buffer");
  if (napi_get_value_uint32(env, argv[2], &cap) != napi_ok || cap == 0) return throw_type(env, "capBytes must be a positive integer");
  int32_t *fds;
  double *meta;
  size_t nfds, nmeta;
  if (!typed(env, argv[3], napi_int32_array, (void **)&fds, &nfds)) return throw_type(env, "fds must be an Int32Array");
  if (!typed(env, argv[4], napi_float64_array, (void **)&meta, &nmeta)) return throw_type(env, "meta must be a Float64Array");

  size_t max = nfds < nmeta / 3 ? nfds : nmeta / 3;
  if (max > MAX_EVENTS) max = MAX_EVENTS;
  if (max > arenaLen / cap) max = arenaLen / cap;
  if (max == 0) return int_result(env, 0);
  struct epoll_event evs[MAX_EVENTS];
  int ready;
  do ready = epoll_wait(ep, evs, (int)max, 0);
  while (ready < 0 && errno == EINTR);
  if (ready < 0) return int_result(env, -errno);

  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  size_t at = 0;
  for (int i = 0; i < ready; i++) {
    int fd = evs[i].data.fd;
    double *m = meta + 3 * i;
    fds[i] = fd;
    union {
      char buf[CMSG_SPACE(sizeof(struct timespec))];
      struct cmsghdr align;
    } ctrl;
    struct iovec iov = {arena + at, cap};
    struct msghdr h;
    memset(&h, 0, sizeof h);
    h.msg_iov = &iov;
    h.msg_iovlen = 1;
    h.msg_control = ctrl.buf;
    h.msg_controllen = sizeof ctrl.buf;
    ssize_t got;
    do got = recvmsg(fd, &h, MSG_DONTWAIT);
    while (got < 0 && errno == EINTR);
    m[0] = (double)at;
    m[1] = got < 0 ? -(double)errno : (double)got;
    m[2] = 0;
    if (got <= 0) continue;
    at += (size_t)got;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
      struct timespec ts;
      memcpy(&ts, CMSG_DATA(c), sizeof ts);
      double age = (double)(now.tv_sec - ts.tv_sec) * 1e3 + (double)(now.tv_nsec - ts.tv_nsec) / 1e6;
      m[2] = age > 0 ? age : 0;
    }
  }
  return int_result(env, ready);
}

void stream_poll_register(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback cb;
  } fns[] = {{"pollCreate", PollCreate}, {"pollAdd", PollAdd}, {"pollDel", PollDel}, {"pollClose", PollClose}, {"pollRead", PollRead}};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &fn);
    napi_set_named_property(env, exports, fns[i].name, fn);
  }
}
