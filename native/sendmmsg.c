/*
 * streamlab's optional native sender: a batch of UDP datagrams handed to the kernel with as few
 * system calls as Linux allows (sendmmsg(2), one call per run of datagrams on the same socket),
 * and a wake's interleaved frames for many TCP connections written in one call from JavaScript
 * (one sendmsg per connection, gathering the pieces: no copy, no Node write request).
 *
 * send(fds, heads, headLengths, bufs, dests, count, status) -> number of datagrams the kernel took
 *   fds    Int32Array: socket descriptor of datagram i (consecutive equal fds form one sendmmsg call)
 *   heads  Buffer: 16 bytes per datagram; datagram i starts with heads[16i, 16i + headLengths[i])
 *          (its RTP header, copied there by the caller: no Buffer to look up per header)
 *   headLengths Int32Array: 0..16 per datagram
 *   bufs   Array: 1 entry per datagram, the Buffer sent after its head (or undefined)
 *   dests  Uint32Array or null: 2 entries per datagram, IPv4 address (host order) and port; port 0
 *          sends on a connected socket (no address)
 *   count  number of datagrams
 *   status Int32Array: set to 0 for a datagram sent, else its errno (EAGAIN: the socket was full)
 *
 * writeFrames(fds, frames, heads, ends, payloads, count, status) -> connections written in full
 *   For the `$` frames (RFC 2326 §10.12) of several TCP connections: connection i gets frames[i]
 *   frames, each its head (the 4-byte `$` head and the frame's first part, as the caller copied
 *   them into connection i's own buffer heads[i], one frame after the other) then its payload
 *   (`payloads`, one entry per frame, may be undefined), written with sendmsg (an iovec per piece,
 *   up to IOV_MAX per call) until done or the socket is full.
 *   fds      Int32Array: connection i's socket descriptor (non-blocking stream socket)
 *   frames   Int32Array: frames of connection i
 *   heads    Array: connection i's head Buffer
 *   ends     Int32Array, 1 entry per frame (all connections one after the other): where the
 *            frame's head ends in its connection's buffer (it starts where the previous frame's
 *            ended, or at 0 for the connection's first)
 *   payloads Array: 1 entry per frame
 *   count    number of connections
 *   status   Int32Array, 2 entries per connection: bytes written, and 0 or the errno that stopped
 *            it (EAGAIN: the socket's buffer is full; the caller queues the rest in order)
 *   The name is not `writev` (its earlier form, which took heads and parts differently): an addon
 *   built before this change is seen as having no interleaved writer, and Node's writes are used.
 *
 * Segmentation offload (UDP GSO, Linux 4.18+): consecutive datagrams of one run to the same
 * destination, all of one length but the last (which may be shorter), leave as ONE message with a
 * UDP_SEGMENT of that length: the kernel builds, routes and hands down one buffer and cuts it into
 * the same datagrams at the device (or at the receiving socket on loopback). A video frame's
 * fragments to one client are such a run (FU-A fragments are filled greedily). The receivers see
 * the datagrams they would have seen. A message the kernel refuses (a route whose MTU is smaller
 * than a segment: EINVAL; a device without checksum offload: EIO, which turns GSO off for the
 * process) is sent again datagram by datagram.
 *
 * gso(enable?) -> { available, enabled, messages, segments, fallbacks }
 *   Turns segmentation on or off (when available: the kernel takes UDP_SEGMENT) and tells the
 *   process-wide counts: messages sent with it, the datagrams they carried, and fallbacks.
 *
 * The buffers are read during the call only (the kernel copies them): the caller may reuse them
 * as soon as it returns. The descriptors must be open sockets: the caller checks that Node still
 * holds them before every call (and, for writeFrames, that Node has nothing queued on them).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "napi-args.h"
#include "recvmmsg.h"
#include "stream-poll.h"
#include "timer.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

/* Datagrams per sendmmsg call (the kernel takes at most UIO_MAXIOV = 1024). */
#define MAX_RUN 256
/* Bytes of `heads` per datagram (an RTP fixed header is 12). */
#define HEAD_SLOT 16
/* Datagrams per segmented message (the kernel's UDP_MAX_SEGMENTS: 64, raised to 128 in recent kernels). */
#define MAX_SEGS 64
/* Bytes of one segmented message (a UDP datagram's payload is at most 65,507). */
#define MAX_GSO_BYTES 65000

/* Segmentation: -1 not probed yet, 0 unavailable; else `gso_on` says whether it is used. */
static int gso_available = -1;
static int gso_on = 1;
static double gso_messages = 0, gso_segments = 0, gso_fallbacks = 0;

/* Whether the kernel takes UDP_SEGMENT (a kernel before 4.18 would ignore the cmsg and send one big datagram). */
static int probe_gso(void) {
  if (gso_available < 0) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int size = 1200;
    gso_available = fd >= 0 && setsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, sizeof size) == 0;
    if (fd >= 0) close(fd);
  }
  return gso_available;
}

/*
 * One run: messages on one descriptor (at most MAX_RUN datagrams). Message k carries the run's
 * datagrams first[k] .. first[k] + segs[k] - 1; the run's datagram j is the call's datagram
 * base + j, and its iovecs are iovs[iov[j], iov[j] + parts[j]).
 */
struct run {
  struct mmsghdr msgs[MAX_RUN];
  struct iovec iovs[MAX_RUN * 2];
  struct sockaddr_in addrs[MAX_RUN];
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } ctrl[MAX_RUN];
  size_t base;
  uint16_t first[MAX_RUN], segs[MAX_RUN], seglen[MAX_RUN];
  uint16_t iov[MAX_RUN], parts[MAX_RUN];
};

/* Sets the status of the run's datagrams [from, to). */
static void mark(const struct run *r, int32_t *status, size_t from, size_t to, int32_t e) {
  for (size_t j = from; j < to; j++) status[r->base + j] = e;
}

/*
 * A refused segmented message (message k), datagram by datagram. Returns how many were sent; sets
 * *stop to the run's datagram at which the socket filled up (the rest is the caller's), else n.
 */
static size_t send_each(int fd, struct run *r, size_t k, int32_t *status, size_t n, size_t *stop) {
  size_t sent = 0;
  *stop = n;
  for (size_t j = r->first[k]; j < (size_t)r->first[k] + r->segs[k]; j++) {
    struct msghdr h = r->msgs[k].msg_hdr;
    h.msg_iov = &r->iovs[r->iov[j]];
    h.msg_iovlen = r->parts[j];
    h.msg_control = NULL;
    h.msg_controllen = 0;
    ssize_t w;
    do {
      w = sendmsg(fd, &h, MSG_DONTWAIT);
    } while (w < 0 && errno == EINTR);
    int e = w < 0 ? errno : 0;
    if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS) {
      *stop = j;
      return sent;
    }
    status[r->base + j] = e;
    if (e == 0) sent++;
  }
  return sent;
}

/* Sends the run's `m` messages (`n` datagrams) on `fd`; returns how many datagrams were sent. */
static size_t send_run(int fd, struct run *r, size_t m, size_t n, int32_t *status) {
  size_t done = 0;
  size_t sent = 0;
  while (done < m) {
    int w;
    do {
      w = sendmmsg(fd, r->msgs + done, (unsigned int)(m - done), MSG_DONTWAIT);
    } while (w < 0 && errno == EINTR);
    if (w > 0) {
      for (size_t k = done; k < done + (size_t)w; k++) {
        mark(r, status, r->first[k], (size_t)r->first[k] + r->segs[k], 0);
        sent += r->segs[k];
        if (r->segs[k] > 1) {
          gso_messages++;
          gso_segments += r->segs[k];
        }
      }
      done += (size_t)w;
      continue;
    }
    int e = w < 0 ? errno : EIO;
    if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS) {
      /* The socket is full: the caller queues the rest the slow way, in order. */
      mark(r, status, r->first[done], n, EAGAIN);
      return sent;
    }
    if (r->segs[done] > 1) {
      /* The kernel refused the segmented message (EIO: the device cannot checksum for it, which
       * no later message will change; EINVAL: a segment longer than the route's MTU, ...). */
      gso_fallbacks++;
      if (e == EIO) gso_on = 0;
      size_t stop;
      sent += send_each(fd, r, done, status, n, &stop);
      if (stop < n) {
        mark(r, status, stop, n, EAGAIN);
        return sent;
      }
      done++;
      continue;
    }
    /* An error belongs to the first message not sent (e.g. ECONNREFUSED after an ICMP port
     * unreachable, or EMSGSIZE); the next ones are tried. */
    status[r->base + r->first[done]] = e;
    done++;
  }
  return sent;
}

/* Whether datagrams a and b go to the same place (on a connected socket, always). */
static int same_dest(const uint32_t *dests, size_t a, size_t b) {
  return !dests || (dests[a * 2] == dests[b * 2] && dests[a * 2 + 1] == dests[b * 2 + 1]);
}

static napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7)
    return throw_type(env, "send(fds, heads, headLengths, bufs, dests, count, status)");
  int32_t *fds, *headLengths, *status;
  size_t nfds, nheadLengths, nstatus;
  if (!typed(env, argv[0], napi_int32_array, (void **)&fds, &nfds)) return throw_type(env, "fds must be an Int32Array");
  uint8_t *heads;
  size_t nheads;
  if (napi_get_buffer_info(env, argv[1], (void **)&heads, &nheads) != napi_ok) return throw_type(env, "heads must be a Buffer");
  if (!typed(env, argv[2], napi_int32_array, (void **)&headLengths, &nheadLengths)) return throw_type(env, "headLengths must be an Int32Array");
  bool isArray = false;
  napi_is_array(env, argv[3], &isArray);
  if (!isArray) return throw_type(env, "bufs must be an Array");
  uint32_t *dests = NULL;
  size_t ndests = 0;
  napi_valuetype dt;
  napi_typeof(env, argv[4], &dt);
  if (dt != napi_null && dt != napi_undefined && !typed(env, argv[4], napi_uint32_array, (void **)&dests, &ndests))
    return throw_type(env, "dests must be a Uint32Array or null");
  uint32_t count;
  if (napi_get_value_uint32(env, argv[5], &count) != napi_ok) return throw_type(env, "count must be a number");
  if (!typed(env, argv[6], napi_int32_array, (void **)&status, &nstatus)) return throw_type(env, "status must be an Int32Array");
  uint32_t nbufs;
  napi_get_array_length(env, argv[3], &nbufs);
  if (count > nfds || count > nstatus || count > nheadLengths || count > nbufs || (size_t)count * HEAD_SLOT > nheads ||
      (dests && (size_t)count * 2 > ndests))
    return throw_type(env, "count exceeds the arrays");
  for (uint32_t d = 0; d < count; d++)
    if (headLengths[d] < 0 || headLengths[d] > HEAD_SLOT) return throw_type(env, "a head length is outside 0..16");
  const int gso = gso_on && probe_gso();

  /* On the stack (about 40 KB): no state shared between calls or threads. */
  struct run r;
  size_t sent = 0;
  size_t i = 0;
  while (i < count) {
    int fd = fds[i];
    r.base = i;
    size_t n = 0; /* datagrams of the run */
    size_t m = 0; /* messages */
    size_t v = 0; /* iovecs */
    size_t bytes = 0; /* of the open message */
    int open = 0; /* the last message may take more segments */
    while (i + n < count && n < MAX_RUN) {
      uint32_t d = (uint32_t)(i + n);
      if (fds[d] != fd) break;
      r.iov[n] = (uint16_t)v;
      size_t len = 0;
      int32_t hl = headLengths[d];
      if (hl > 0) {
        r.iovs[v].iov_base = heads + (size_t)d * HEAD_SLOT;
        r.iovs[v].iov_len = (size_t)hl;
        len += (size_t)hl;
        v++;
      }
      napi_value b;
      napi_get_element(env, argv[3], d, &b);
      void *data;
      size_t blen;
      if (napi_get_buffer_info(env, b, &data, &blen) == napi_ok) {
        r.iovs[v].iov_base = data;
        r.iovs[v].iov_len = blen;
        len += blen;
        v++;
      } else {
        /* Only undefined (no body) is allowed besides a Buffer; asked only on this rare path. */
        napi_valuetype t;
        napi_typeof(env, b, &t);
        if (t != napi_undefined && t != napi_null) return throw_type(env, "bufs holds something that is not a Buffer");
      }
      r.parts[n] = (uint16_t)(v - r.iov[n]);
      /* A segment of the open message: same destination, not longer than its segments, room left. */
      if (open && len > 0 && len <= r.seglen[m - 1] && r.segs[m - 1] < MAX_SEGS && bytes + len <= MAX_GSO_BYTES &&
          same_dest(dests, i + r.first[m - 1], d)) {
        struct msghdr *h = &r.msgs[m - 1].msg_hdr;
        h->msg_iovlen += r.parts[n];
        r.segs[m - 1]++;
        bytes += len;
        /* A shorter segment is the last. */
        open = len == r.seglen[m - 1];
        if (r.segs[m - 1] == 2) {
          h->msg_control = r.ctrl[m - 1].buf;
          h->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
          struct cmsghdr *c = CMSG_FIRSTHDR(h);
          c->cmsg_level = SOL_UDP;
          c->cmsg_type = UDP_SEGMENT;
          c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
          uint16_t size = r.seglen[m - 1];
          memcpy(CMSG_DATA(c), &size, sizeof size);
        }
        n++;
        continue;
      }
      struct msghdr *h = &r.msgs[m].msg_hdr;
      memset(h, 0, sizeof *h);
      h->msg_iov = &r.iovs[r.iov[n]];
      h->msg_iovlen = r.parts[n];
      if (dests && dests[d * 2 + 1] != 0) {
        struct sockaddr_in *a = &r.addrs[m];
        memset(a, 0, sizeof *a);
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(dests[d * 2]);
        a->sin_port = htons((uint16_t)dests[d * 2 + 1]);
        h->msg_name = a;
        h->msg_namelen = sizeof *a;
      }
      r.first[m] = (uint16_t)n;
      r.segs[m] = 1;
      r.seglen[m] = len <= 0xffff ? (uint16_t)len : 0;
      bytes = len;
      open = gso && len > 0 && len <= 0xffff;
      m++;
      n++;
    }
    sent += send_run(fd, &r, m, n, status);
    i += n;
  }
  napi_value result;
  napi_create_uint32(env, (uint32_t)sent, &result);
  return result;
}

static napi_value Gso(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 1) {
    napi_valuetype t;
    napi_typeof(env, argv[0], &t);
    if (t == napi_boolean) {
      bool on;
      napi_get_value_bool(env, argv[0], &on);
      gso_on = on;
    } else if (t != napi_undefined) return throw_type(env, "gso(enable?: boolean)");
  }
  napi_value out, v;
  napi_create_object(env, &out);
  napi_get_boolean(env, probe_gso(), &v);
  napi_set_named_property(env, out, "available", v);
  napi_get_boolean(env, gso_on && probe_gso(), &v);
  napi_set_named_property(env, out, "enabled", v);
  napi_create_double(env, gso_messages, &v);
  napi_set_named_property(env, out, "messages", v);
  napi_create_double(env, gso_segments, &v);
  napi_set_named_property(env, out, "segments", v);
  napi_create_double(env, gso_fallbacks, &v);
  napi_set_named_property(env, out, "fallbacks", v);
  return out;
}

/* Pieces per sendmsg call (the kernel takes at most IOV_MAX = 1024). */
#define MAX_IOV 1024

/* Sends iov[0, n) on fd; returns bytes written (>= 0) and sets *err to 0 when all went, else the errno. */
static size_t stream_send(int fd, struct iovec *iov, size_t n, size_t total, int *err) {
  struct msghdr h;
  memset(&h, 0, sizeof h);
  h.msg_iov = iov;
  h.msg_iovlen = n;
  ssize_t r;
  do {
    r = sendmsg(fd, &h, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    *err = errno == EWOULDBLOCK ? EAGAIN : errno;
    return 0;
  }
  /* A stream socket takes part of it when its buffer fills up: the rest is the caller's. */
  *err = (size_t)r == total ? 0 : EAGAIN;
  return (size_t)r;
}

static napi_value WriteFrames(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7)
    return throw_type(env, "writeFrames(fds, frames, heads, ends, payloads, count, status)");
  int32_t *fds, *frames, *ends, *status;
  size_t nfds, nframes, nends, nstatus;
  if (!typed(env, argv[0], napi_int32_array, (void **)&fds, &nfds)) return throw_type(env, "fds must be an Int32Array");
  if (!typed(env, argv[1], napi_int32_array, (void **)&frames, &nframes)) return throw_type(env, "frames must be an Int32Array");
  bool isArray = false;
  napi_is_array(env, argv[2], &isArray);
  if (!isArray) return throw_type(env, "heads must be an Array");
  uint32_t nheads;
  napi_get_array_length(env, argv[2], &nheads);
  if (!typed(env, argv[3], napi_int32_array, (void **)&ends, &nends)) return throw_type(env, "ends must be an Int32Array");
  napi_is_array(env, argv[4], &isArray);
  if (!isArray) return throw_type(env, "payloads must be an Array");
  uint32_t npayloads;
  napi_get_array_length(env, argv[4], &npayloads);
  uint32_t count;
  if (napi_get_value_uint32(env, argv[5], &count) != napi_ok) return throw_type(env, "count must be a number");
  if (!typed(env, argv[6], napi_int32_array, (void **)&status, &nstatus)) return throw_type(env, "status must be an Int32Array");
  if (count > nfds || count > nframes || count > nheads || (size_t)count * 2 > nstatus) return throw_type(env, "count exceeds the arrays");
  size_t all = 0;
  for (uint32_t c = 0; c < count; c++) {
    if (frames[c] < 0) return throw_type(env, "frames must not be negative");
    all += (size_t)frames[c];
  }
  if (all > nends || all > npayloads) return throw_type(env, "frames exceed ends or payloads");

  /* On the stack (16 KB): no state shared between calls or threads. */
  struct iovec iov[MAX_IOV];
  uint32_t complete = 0;
  size_t f = 0; /* first frame of connection c */
  for (uint32_t c = 0; c < count; c++) {
    size_t end = f + (size_t)frames[c];
    napi_value hv;
    napi_get_element(env, argv[2], c, &hv);
    uint8_t *head;
    size_t headLen;
    if (napi_get_buffer_info(env, hv, (void **)&head, &headLen) != napi_ok) return throw_type(env, "heads holds something that is not a Buffer");
    /* Every frame's head range lies in the buffer, in order: checked before anything is sent. */
    size_t at = 0;
    for (size_t k = f; k < end; k++) {
      if (ends[k] < 0 || (size_t)ends[k] < at + 4 || (size_t)ends[k] > headLen) return throw_type(env, "ends out of order or outside its head");
      at = (size_t)ends[k];
    }
    size_t written = 0;
    int err = 0;
    size_t n = 0, chunk = 0;
    at = 0;
    for (size_t k = f; k < end; k++) {
      /* A frame is up to 2 pieces: send first when they might not fit. */
      if (n + 2 > MAX_IOV) {
        written += stream_send(fds[c], iov, n, chunk, &err);
        n = 0;
        chunk = 0;
        if (err) break;
      }
      size_t to = (size_t)ends[k];
      if (n > 0 && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len == head + at) {
        /* The previous frame had no payload: its head and this one are one piece. */
        iov[n - 1].iov_len += to - at;
      } else {
        iov[n].iov_base = head + at;
        iov[n].iov_len = to - at;
        n++;
      }
      chunk += to - at;
      at = to;
      napi_value v;
      napi_get_element(env, argv[4], (uint32_t)k, &v);
      void *data;
      size_t len;
      /* A Buffer, most of the time (RTP): asked for first, its type looked at only when it is not one. */
      if (napi_get_buffer_info(env, v, &data, &len) != napi_ok) {
        napi_valuetype t;
        napi_typeof(env, v, &t);
        if (t == napi_undefined || t == napi_null) continue;
        return throw_type(env, "payloads holds something that is not a Buffer");
      }
      if (len == 0) continue;
      iov[n].iov_base = data;
      iov[n].iov_len = len;
      n++;
      chunk += len;
    }
    if (err == 0 && n > 0) written += stream_send(fds[c], iov, n, chunk, &err);
    status[c * 2] = (int32_t)written;
    status[c * 2 + 1] = err;
    if (err == 0) complete++;
    f = end;
  }
  napi_value result;
  napi_create_uint32(env, complete, &result);
  return result;
}

/* Bumped whenever a function's arguments change: JS refuses an addon built from an older source. */
#define ADDON_VERSION 4

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  napi_value version;
  napi_create_uint32(env, ADDON_VERSION, &version);
  napi_set_named_property(env, exports, "version", version);
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, Send, NULL, &fn);
  napi_set_named_property(env, exports, "send", fn);
  napi_create_function(env, "gso", NAPI_AUTO_LENGTH, Gso, NULL, &fn);
  napi_set_named_property(env, exports, "gso", fn);
  napi_create_function(env, "writeFrames", NAPI_AUTO_LENGTH, WriteFrames, NULL, &fn);
  napi_set_named_property(env, exports, "writeFrames", fn);
  timer_register(env, exports);
  recv_register(env, exports);
  stream_poll_register(env, exports);
  return exports;
}
