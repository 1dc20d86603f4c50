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
 * The buffers are read during the call only (the kernel copies them): the caller may reuse them
 * as soon as it returns. The descriptors must be open sockets: the caller checks that Node still
 * holds them before every call (and, for writeFrames, that Node has nothing queued on them).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Datagrams per sendmmsg call (the kernel takes at most UIO_MAXIOV = 1024). */
#define MAX_RUN 256
/* Bytes of `heads` per datagram (an RTP fixed header is 12). */
#define HEAD_SLOT 16

static napi_value fail(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, data, &ab, &offset) != napi_ok) return 0;
  return type == want;
}

/* One run: datagrams [from, to) all on `fd`, at most MAX_RUN of them. Returns how many were sent. */
static size_t send_run(int fd, struct mmsghdr *msgs, size_t n, int32_t *status, size_t base) {
  size_t done = 0;
  size_t sent = 0;
  while (done < n) {
    int r;
    do {
      r = sendmmsg(fd, msgs + done, (unsigned int)(n - done), MSG_DONTWAIT);
    } while (r < 0 && errno == EINTR);
    if (r > 0) {
      for (int k = 0; k < r; k++) status[base + done + k] = 0;
      done += (size_t)r;
      sent += (size_t)r;
      continue;
    }
    int e = r < 0 ? errno : EIO;
    if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS) {
      /* The socket is full: the caller queues the rest the slow way, in order. */
      for (size_t k = done; k < n; k++) status[base + k] = EAGAIN;
      return sent;
    }
    /* An error belongs to the first datagram not sent (e.g. ECONNREFUSED after an ICMP port
     * unreachable, or EMSGSIZE); the next ones are tried. */
    status[base + done] = e;
    done++;
  }
  return sent;
}

static napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7)
    return fail(env, "send(fds, heads, headLengths, bufs, dests, count, status)");
  int32_t *fds, *headLengths, *status;
  size_t nfds, nheadLengths, nstatus;
  if (!typed(env, argv[0], napi_int32_array, (void **)&fds, &nfds)) return fail(env, "fds must be an Int32Array");
  uint8_t *heads;
  size_t nheads;
  if (napi_get_buffer_info(env, argv[1], (void **)&heads, &nheads) != napi_ok) return fail(env, "heads must be a Buffer");
  if (!typed(env, argv[2], napi_int32_array, (void **)&headLengths, &nheadLengths)) return fail(env, "headLengths must be an Int32Array");
  bool isArray = false;
  napi_is_array(env, argv[3], &isArray);
  if (!isArray) return fail(env, "bufs must be an Array");
  uint32_t *dests = NULL;
  size_t ndests = 0;
  napi_valuetype dt;
  napi_typeof(env, argv[4], &dt);
  if (dt != napi_null && dt != napi_undefined && !typed(env, argv[4], napi_uint32_array, (void **)&dests, &ndests))
    return fail(env, "dests must be a Uint32Array or null");
  uint32_t count;
  if (napi_get_value_uint32(env, argv[5], &count) != napi_ok) return fail(env, "count must be a number");
  if (!typed(env, argv[6], napi_int32_array, (void **)&status, &nstatus)) return fail(env, "status must be an Int32Array");
  uint32_t nbufs;
  napi_get_array_length(env, argv[3], &nbufs);
  if (count > nfds || count > nstatus || count > nheadLengths || count > nbufs || (size_t)count * HEAD_SLOT > nheads ||
      (dests && (size_t)count * 2 > ndests))
    return fail(env, "count exceeds the arrays");

  /* On the stack (about 28 KB): no state shared between calls or threads. */
  struct mmsghdr msgs[MAX_RUN];
  struct iovec iovs[MAX_RUN * 2];
  struct sockaddr_in addrs[MAX_RUN];
  size_t sent = 0;
  size_t i = 0;
  while (i < count) {
    int fd = fds[i];
    size_t n = 0;
    while (i + n < count && fds[i + n] == fd && n < MAX_RUN) {
      size_t d = i + n;
      struct msghdr *h = &msgs[n].msg_hdr;
      memset(h, 0, sizeof *h);
      int parts = 0;
      int32_t hl = headLengths[d];
      if (hl < 0 || hl > HEAD_SLOT) return fail(env, "a head length is outside 0..16");
      if (hl > 0) {
        iovs[n * 2].iov_base = heads + d * HEAD_SLOT;
        iovs[n * 2].iov_len = (size_t)hl;
        parts++;
      }
      napi_value v;
      napi_get_element(env, argv[3], (uint32_t)d, &v);
      void *data;
      size_t len;
      if (napi_get_buffer_info(env, v, &data, &len) == napi_ok) {
        iovs[n * 2 + parts].iov_base = data;
        iovs[n * 2 + parts].iov_len = len;
        parts++;
      } else {
        /* Only undefined (no body) is allowed besides a Buffer; asked only on this rare path. */
        napi_valuetype t;
        napi_typeof(env, v, &t);
        if (t != napi_undefined && t != napi_null) return fail(env, "bufs holds something that is not a Buffer");
      }
      h->msg_iov = &iovs[n * 2];
      h->msg_iovlen = (size_t)parts;
      if (dests && dests[d * 2 + 1] != 0) {
        struct sockaddr_in *a = &addrs[n];
        memset(a, 0, sizeof *a);
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(dests[d * 2]);
        a->sin_port = htons((uint16_t)dests[d * 2 + 1]);
        h->msg_name = a;
        h->msg_namelen = sizeof *a;
      }
      n++;
    }
    sent += send_run(fd, msgs, n, status, i);
    i += n;
  }
  napi_value result;
  napi_create_uint32(env, (uint32_t)sent, &result);
  return result;
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
    return fail(env, "writeFrames(fds, frames, heads, ends, payloads, count, status)");
  int32_t *fds, *frames, *ends, *status;
  size_t nfds, nframes, nends, nstatus;
  if (!typed(env, argv[0], napi_int32_array, (void **)&fds, &nfds)) return fail(env, "fds must be an Int32Array");
  if (!typed(env, argv[1], napi_int32_array, (void **)&frames, &nframes)) return fail(env, "frames must be an Int32Array");
  bool isArray = false;
  napi_is_array(env, argv[2], &isArray);
  if (!isArray) return fail(env, "heads must be an Array");
  uint32_t nheads;
  napi_get_array_length(env, argv[2], &nheads);
  if (!typed(env, argv[3], napi_int32_array, (void **)&ends, &nends)) return fail(env, "ends must be an Int32Array");
  napi_is_array(env, argv[4], &isArray);
  if (!isArray) return fail(env, "payloads must be an Array");
  uint32_t npayloads;
  napi_get_array_length(env, argv[4], &npayloads);
  uint32_t count;
  if (napi_get_value_uint32(env, argv[5], &count) != napi_ok) return fail(env, "count must be a number");
  if (!typed(env, argv[6], napi_int32_array, (void **)&status, &nstatus)) return fail(env, "status must be an Int32Array");
  if (count > nfds || count > nframes || count > nheads || (size_t)count * 2 > nstatus) return fail(env, "count exceeds the arrays");
  size_t all = 0;
  for (uint32_t c = 0; c < count; c++) {
    if (frames[c] < 0) return fail(env, "frames must not be negative");
    all += (size_t)frames[c];
  }
  if (all > nends || all > npayloads) return fail(env, "frames exceed ends or payloads");

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
    if (napi_get_buffer_info(env, hv, (void **)&head, &headLen) != napi_ok) return fail(env, "heads holds something that is not a Buffer");
    /* Every frame's head range lies in the buffer, in order: checked before anything is sent. */
    size_t at = 0;
    for (size_t k = f; k < end; k++) {
      if (ends[k] < 0 || (size_t)ends[k] < at + 4 || (size_t)ends[k] > headLen) return fail(env, "ends out of order or outside its head");
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
      napi_valuetype t;
      napi_typeof(env, v, &t);
      if (t == napi_undefined || t == napi_null) continue;
      void *data;
      size_t len;
      if (napi_get_buffer_info(env, v, &data, &len) != napi_ok) return fail(env, "payloads holds something that is not a Buffer");
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
#define ADDON_VERSION 2

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  napi_value version;
  napi_create_uint32(env, ADDON_VERSION, &version);
  napi_set_named_property(env, exports, "version", version);
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, Send, NULL, &fn);
  napi_set_named_property(env, exports, "send", fn);
  napi_create_function(env, "writeFrames", NAPI_AUTO_LENGTH, WriteFrames, NULL, &fn);
  napi_set_named_property(env, exports, "writeFrames", fn);
  return exports;
}
