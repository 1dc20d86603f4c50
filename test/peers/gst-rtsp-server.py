#!/usr/bin/python3
"""GStreamer RTSP server for interop tests and the server bench.

Serves one MP4 file (H.264 + AAC) on one mount, on 127.0.0.1 only:

    /usr/bin/python3 test/peers/gst-rtsp-server.py --port N --mount /sample.mp4 \
        --file media/sample.mp4 [--shared] [--rtp-ports MIN-MAX]

or any gst-rtsp-server launch line instead of the file (payloaders named pay0, pay1, ...):

    /usr/bin/python3 test/peers/gst-rtsp-server.py --port 0 --mount /pcmu \
        --launch "( audiotestsrc num-buffers=100 ! mulawenc ! rtppcmupay name=pay0 )"

--port 0 picks a free port. Prints `READY <port>` on stdout once listening; exits cleanly
(status 0) on SIGTERM or SIGINT, and on its own when stdin closes if --exit-on-stdin-eof is
given (so a parent that dies cannot leave it behind).

--auth USER:PASSWORD requires RTSP Digest authentication (GstRTSPAuth, MD5) of that user for the
mount (--auth-basic: Basic instead).
"""
import argparse
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
gi.require_version("GstRtsp", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

HOST = "127.0.0.1"


def launch_line(path: str) -> str:
    loc = path.replace("\\", "\\\\").replace('"', '\\"')
    return (
        f'( filesrc location="{loc}" ! qtdemux name=d '
        "d.video_0 ! queue ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 "
        "d.audio_0 ! queue ! aacparse ! rtpmp4gpay name=pay1 pt=97 )"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=8554, help="RTSP port on 127.0.0.1 (0: pick a free one)")
    ap.add_argument("--mount", default="/sample.mp4", help="mount path, starting with /")
    ap.add_argument("--file", help="MP4 file with H.264 video and AAC audio")
    ap.add_argument("--launch", help="a gst-rtsp-server launch line to serve instead of --file")
    ap.add_argument("--shared", action="store_true", help="one pipeline shared by all clients")
    ap.add_argument("--rtp-ports", default="40000-49999", help="UDP port range for server RTP/RTCP")
    ap.add_argument("--auth", help="USER:PASSWORD: require Digest authentication of that user")
    ap.add_argument("--auth-basic", action="store_true", help="with --auth: Basic instead of Digest")
    ap.add_argument("--exit-on-stdin-eof", action="store_true", help="stop when stdin is closed")
    args = ap.parse_args()

    if (args.file is None) == (args.launch is None):
        print("give --file or --launch (one of them)", file=sys.stderr)
        return 2
    if args.file is not None and not os.path.isfile(args.file):
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    if not args.mount.startswith("/"):
        print("--mount must start with /", file=sys.stderr)
        return 2
    lo, _, hi = args.rtp_ports.partition("-")
    rtp_min, rtp_max = int(lo), int(hi)

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(HOST)
    server.set_service(str(args.port))

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(args.launch if args.launch is not None else launch_line(os.path.abspath(args.file)))
    factory.set_shared(args.shared)
    # Unicast UDP sockets bound to 127.0.0.1 too (without a pool they bind to the wildcard address).
    pool = GstRtspServer.RTSPAddressPool()
    pool.add_range(HOST, HOST, rtp_min, rtp_max, 0)
    factory.set_address_pool(pool)
    if args.auth is not None:
        user, _, password = args.auth.partition(":")
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "user")
        if args.auth_basic:
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
        else:
            auth.add_digest(user, password, token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role("user", "media.factory.access", True)
        permissions.add_permission_for_role("user", "media.factory.construct", True)
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory(args.mount, factory)

    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        print(f"cannot listen on {HOST}:{args.port}", file=sys.stderr)
        return 1

    def stop(*_a):
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, stop)
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, stop)
    if args.exit_on_stdin_eof:
        def on_stdin(_fd, cond):
            if cond & (GLib.IO_HUP | GLib.IO_ERR):
                return stop()
            if not os.read(0, 4096):
                return stop()
            return GLib.SOURCE_CONTINUE

        GLib.unix_fd_add_full(GLib.PRIORITY_DEFAULT, 0, GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, on_stdin)

    print(f"READY {server.get_bound_port()}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
