/*
 * A UDP socket read in batches (src/transport/datagram-drain.ts): what the kernel queued since the
 * last call, in one recvmmsg(2), with the kernel's arrival time of each datagram. The server's
 * shared RTCP socket is read this way at the scheduler's wake-ups instead of the event loop
 * waking once per receiver report.
 *
 * receiveTimestamps(fd) -> boolean
 *   Turns SO_TIMESTAMPNS on: the kernel stamps every datagram with its arrival (CLOCK_REALTIME).
 *   False when the kernel refused.
 *
 * recvBatch(fd, arena, slotBytes, meta) -> datagrams read (0: none queued; -errno on an error)
 *   One recvmmsg with MSG_DONTWAIT of up to min(arena.length / slotBytes, meta.length / 4,
 *   MAX_BATCH) datagrams. Datagram i is at arena[i * slotBytes, ...) and meta[4i .. 4i + 3] are:
 *   its length in bytes (-1: longer than a slot, cut: the caller drops it), the source's IPv4
 *   address (host order; 0 when the source is not IPv4), the source port, and its age in
 *   milliseconds (CLOCK_REALTIME when the call returned minus the kernel's stamp; 0 without one).
 *   The arena is written during the call only.
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include "recvmmsg.h"

#include "napi-args.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Datagrams per call. */
#define MAX_BATCH 64

static napi_value ReceiveTimestamps(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return throw_type(env, "fd must be a descriptor");
  int on = 1;
  napi_value result;
  napi_get_boolean(env, setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) == 0, &result);
  return result;
}

static napi_value RecvBatch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) return throw_type(env, "recvBatch(fd, arena, slotBytes, meta)");
  int32_t fd = -1;
  uint32_t slot = 0;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return throw_type(env, "fd must be a descriptor");
  char *arena;
  size_t arenaLen;
  if (napi_get_buffer_info(env, argv[1], (void **)&arena, &arenaLen) != napi_ok) return throw_type(env, "arena must be a Buffer");
  if (napi_get_value_uint32(env, argv[2], &slot) != napi_ok || slot == 0) return throw_type(env, "slotBytes must be a positive integer");
  size_t metaLen;
  double *meta;
  if (!typed(env, argv[3], napi_float64_array, (void **)&meta, &metaLen)) return throw_type(env, "meta must be a Float64Array");

  size_t n = arenaLen / slot;
  if (n > metaLen / 4) n = metaLen / 4;
  if (n > MAX_BATCH) n = MAX_BATCH;
  napi_value result;
  if (n == 0) {
    napi_create_int32(env, 0, &result);
    return result;
  }

  struct mmsghdr msgs[MAX_BATCH];
  struct iovec iovs[MAX_BATCH];
  struct sockaddr_storage addrs[MAX_BATCH];
  union {
    char buf[CMSG_SPACE(sizeof(struct timespec))];
    struct cmsghdr align;
  } ctrl[MAX_BATCH];
  memset(msgs, 0, n * sizeof msgs[0]);
  for (size_t i = 0; i < n; i++) {
    iovs[i].iov_base = arena + i * slot;
    iovs[i].iov_len = slot;
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &addrs[i];
    msgs[i].msg_hdr.msg_namelen = sizeof addrs[i];
    msgs[i].msg_hdr.msg_control = ctrl[i].buf;
    msgs[i].msg_hdr.msg_controllen = sizeof ctrl[i].buf;
  }
  int got;
  do got = recvmmsg(fd, msgs, (unsigned)n, MSG_DONTWAIT, NULL);
  while (got < 0 && errno == EINTR);
  if (got < 0) {
    napi_create_int32(env, errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno, &result);
    return result;
  }
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  for (int i = 0; i < got; i++) {
    const struct msghdr *h = &msgs[i].msg_hdr;
    double *m = meta + 4 * i;
    m[0] = (h->msg_flags & MSG_TRUNC) ? -1 : (double)msgs[i].msg_len;
    m[1] = 0;
    m[2] = 0;
    if (addrs[i].ss_family == AF_INET) {
      const struct sockaddr_in *a = (const struct sockaddr_in *)&addrs[i];
      m[1] = (double)ntohl(a->sin_addr.s_addr);
      m[2] = ntohs(a->sin_port);
    }
    m[3] = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR((struct msghdr *)h, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
      struct timespec ts;
      memcpy(&ts, CMSG_DATA(c), sizeof ts);
      double age = (double)(now.tv_sec - ts.tv_sec) * 1e3 + (double)(now.tv_nsec - ts.tv_nsec) / 1e6;
      m[3] = age > 0 ? age : 0;
    }
  }
  napi_create_int32(env, got, &result);
  return result;
}

void recv_register(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "receiveTimestamps", NAPI_AUTO_LENGTH, ReceiveTimestamps, NULL, &fn);
  napi_set_named_property(env, exports, "receiveTimestamps", fn);
  napi_create_function(env, "recvBatch", NAPI_AUTO_LENGTH, RecvBatch, NULL, &fn);
  napi_set_named_property(env, exports, "recvBatch", fn);
}
