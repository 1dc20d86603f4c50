#!/usr/bin/python3
"""GStreamer's rtspsrc as a trick-play peer for streamlab's tests (run with /usr/bin/python3).

Plays an RTSP URL, decodes the H.264 video, seeks with a rate (a negative rate plays backwards)
once a few frames have been decoded, and reports as one JSON line on stdout:
  sent:   the Scale/Speed/Range headers of every PLAY rtspsrc sent (via its before-send signal),
  frames: every decoded video frame as [phase, stream time in s] (phase 0 before the seek, 1 after),
  error:  the first error message on the bus, if any.
Usage: gst-trick.py URL RATE START_SEC [--tcp] [--trickmode] [--after N] [--frames N] [--timeout S]
"""
import json
import os
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
from gi.repository import GLib, Gst, GstRtsp  # noqa: E402


def main() -> int:
    args = sys.argv[1:]
    url, rate, start = args[0], float(args[1]), float(args[2])
    tcp = "--tcp" in args
    trickmode = "--trickmode" in args

    def opt(name: str, default: float) -> float:
        # The last occurrence wins, so callers can append overrides.
        idx = [i for i, a in enumerate(args) if a == name]
        return float(args[idx[-1] + 1]) if idx else default

    after = int(opt("--after", 10))
    timeout = opt("--timeout", 20.0)
    frames_wanted = int(opt("--frames", 6))

    Gst.init(None)
    pipeline = Gst.Pipeline.new("p")
    src = Gst.ElementFactory.make("rtspsrc", "src")
    src.set_property("location", url)
    src.set_property("latency", 200)
    if tcp:
        src.set_property("protocols", GstRtsp.RTSPLowerTrans.TCP)
    depay = Gst.ElementFactory.make("rtph264depay")
    parse = Gst.ElementFactory.make("h264parse")
    dec = Gst.ElementFactory.make("avdec_h264")
    sink = Gst.ElementFactory.make("fakesink")
    sink.set_property("sync", True)
    for e in (src, depay, parse, dec, sink):
        pipeline.add(e)
    depay.link(parse)
    parse.link(dec)
    dec.link(sink)

    state = {"phase": 0, "frames": [], "sent": [], "error": None, "seeked": False, "segment": None}
    loop = GLib.MainLoop()

    def on_pad(_src, pad):
        caps = pad.get_current_caps() or pad.query_caps(None)
        media = caps.get_structure(0).get_string("media")
        if media == "video":
            pad.link(depay.get_static_pad("sink"))
        else:
            fs = Gst.ElementFactory.make("fakesink")
            fs.set_property("sync", False)
            pipeline.add(fs)
            fs.sync_state_with_parent()
            pad.link(fs.get_static_pad("sink"))

    src.connect("pad-added", on_pad)

    def before_send(_src, msg):
        if msg.get_type() == GstRtsp.RTSPMsgType.REQUEST:
            res, method, _uri, _ver = msg.parse_request()
            if method == GstRtsp.RTSPMethod.PLAY:
                h = {}
                for name, field in (("Scale", GstRtsp.RTSPHeaderField.SCALE), ("Speed", GstRtsp.RTSPHeaderField.SPEED), ("Range", GstRtsp.RTSPHeaderField.RANGE)):
                    r, value = msg.get_header(field, 0)
                    if r == GstRtsp.RTSPResult.OK:
                        h[name] = value
                state["sent"].append(h)
        return True

    try:
        src.connect("before-send", before_send)
    except TypeError:
        pass

    def probe(pad, info):
        t = info.type
        if t & Gst.PadProbeType.EVENT_DOWNSTREAM:
            ev = info.get_event()
            if ev.type == Gst.EventType.SEGMENT:
                seg = ev.parse_segment()
                state["segment"] = seg
                state.setdefault("segments", []).append(
                    {"rate": seg.rate, "applied_rate": seg.applied_rate, "start": seg.start / Gst.SECOND, "time": seg.time / Gst.SECOND}
                )
            return Gst.PadProbeReturn.OK
        buf = info.get_buffer()
        seg = state["segment"]
        if buf is None or seg is None or buf.pts == Gst.CLOCK_TIME_NONE:
            return Gst.PadProbeReturn.OK
        st = seg.to_stream_time(Gst.Format.TIME, buf.pts)
        state["frames"].append([state["phase"], None if st == Gst.CLOCK_TIME_NONE or st < 0 else st / Gst.SECOND])
        n_phase = sum(1 for f in state["frames"] if f[0] == state["phase"])
        if state["phase"] == 0 and n_phase >= after and not state["seeked"]:
            state["seeked"] = True
            GLib.idle_add(do_seek)
        elif state["phase"] == 1 and n_phase >= frames_wanted:
            GLib.idle_add(loop.quit)
        return Gst.PadProbeReturn.OK

    dec.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER | Gst.PadProbeType.EVENT_DOWNSTREAM, probe)

    def do_seek():
        flags = Gst.SeekFlags.FLUSH | Gst.SeekFlags.ACCURATE
        if trickmode:
            flags |= Gst.SeekFlags.TRICKMODE
        pos = int(start * Gst.SECOND)
        if rate > 0:
            ok = pipeline.seek(rate, Gst.Format.TIME, flags, Gst.SeekType.SET, pos, Gst.SeekType.NONE, -1)
        else:
            ok = pipeline.seek(rate, Gst.Format.TIME, flags, Gst.SeekType.SET, 0, Gst.SeekType.SET, pos)
        state["seek_ok"] = bool(ok)
        state["phase"] = 1
        return False

    def on_message(_bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            state["error"] = f"{err.message} ({dbg})"
            loop.quit()
        elif msg.type == Gst.MessageType.EOS:
            loop.quit()

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    GLib.timeout_add(int(timeout * 1000), loop.quit)
    pipeline.set_state(Gst.State.PLAYING)
    loop.run()
    out = {"segments": state.get("segments", []), "sent": state["sent"], "frames": state["frames"], "error": state["error"], "seek_ok": state.get("seek_ok")}
    print(json.dumps(out), flush=True)
    # Shutting a flushing-seeked rtspsrc down can block; the report is out, so leave without it.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
