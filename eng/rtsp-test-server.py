#!/usr/bin/python3
"""RTSP test camera server for OpenNVR for .NET (GStreamer gst-rtsp-server through PyGObject).

Run it with Debian's Python (the GStreamer bindings live there, not in pyenv):

    /usr/bin/python3 eng/rtsp-test-server.py --port 8554 \
        --pattern /pattern --file /cam=testdata/video/vtest.mp4

Mounts (each may be repeated, at least one is required):
  --pattern /path          live videotestsrc encoded with x264enc (tune=zerolatency, keyframe every 2 s);
                           one pipeline per client (unshared factory). Size, rate and picture: --size, --fps,
                           --pattern-style.
  --file /path=FILE.mp4    a pre-encoded H.264 MP4 (no B-frames, short GOP) sent WITHOUT re-encoding, looped
                           seamlessly forever in real time. One shared pipeline for all clients: each new client
                           joins the running stream (like a real camera), timestamps keep increasing across loops.

When the server listens it prints exactly one line "READY rtsp://127.0.0.1:PORT" on stdout (flushed); with
--port 0 the kernel picks a free port and the line tells which. Everything else goes to stderr. SIGTERM or
SIGINT stops it with exit code 0.

How the file loop works (each point was needed in practice; GStreamer 1.22):
  * filesrc ! qtdemux ! h264parse ! rtph264pay in one shared media;
  * when the media is prepared: a flushing SEGMENT seek to 0 sent to the demuxer's source pad, so that qtdemux
    posts SEGMENT_DONE at the end of the loop instead of EOS (seeking after EOS stalls qtdemux);
  * on each SEGMENT_DONE: a non-flushing SEGMENT seek back to 0, and the demuxer's source pad offset set so
    that the new segment starts exactly one loop length later in running time: timestamps (RTP and the DTS a
    recorder sees) keep increasing by exactly one frame across the seam (qtdemux alone repeats one timestamp);
  * the loop ends at the last keyframe when the file's last GOP is short (vtest.mp4: 79.5 s file, GOP 2 s,
    loops every 78.0 s), so keyframes stay exactly every 2 s forever (--full-loop plays the whole file);
  * the SEEKING query fails (probe), so the server treats the media as not seekable; otherwise the PLAY (with
    Range: npt=0-) of each new client seeks the shared pipeline and restarts the stream for every client;
  * the initial flushing seek waits until the payloader has a SEGMENT again: a PLAY in that gap aborted the
    whole server (gst_rtsp_media_get_rates: assertion failed; 1 of 15 rapid starts before the fix, 0 of 90
    after).
A client that joins a running file mount receives the stream from the current position; ffmpeg starts its
copy at the next keyframe (at most one GOP later), as with a real camera.
"""

import argparse
import os
import signal
import struct
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

# Before any GstRtspServer subclass is registered: the class initialisation needs GStreamer's types.
Gst.init(None)

PROG = "rtsp-test-server"


def log(msg):
    print(f"{PROG}: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------------------
# Looping file media
# --------------------------------------------------------------------------------------------------------------


def _not_seekable_probe(_pad, info):
    """Makes the SEEKING query of the shared file pipeline fail, so the server treats the media as not seekable.

    (Answering it with seekable=false in place is not possible from Python: the query that PyGObject hands over
    is not writable. A failed SEEKING query has the same effect in gst-rtsp-server: the media counts as not
    seekable and PLAY requests with a Range header do not seek.)
    """
    query = info.get_query()
    if query is not None and query.type == Gst.QueryType.SEEKING:
        return Gst.PadProbeReturn.DROP
    return Gst.PadProbeReturn.OK


def _mp4_boxes(data, start, end):
    """Yields (type, payload_start, box_end) for the boxes in data[start:end]."""
    off = start
    while off + 8 <= end:
        size, kind = struct.unpack(">I4s", data[off:off + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[off + 8:off + 16])[0]
            header = 16
        elif size == 0:
            size = end - off
        if size < header:
            return
        yield kind.decode("latin1"), off + header, min(off + size, end)
        off += size


def mp4_video_loop_point(path):
    """Returns (loop_end_ns, duration_ns) of the first video track of an MP4, or None if unreadable.

    loop_end is the file duration when the last GOP is complete (as long as the one before), otherwise the
    time of the last keyframe: looping there keeps the keyframe cadence (e.g. one every 2 s) unbroken across
    seams, so a recorder's 10 s chunks stay exactly 10 s. vtest.mp4: 795 frames, GOP 20, loops at 78.0 s.
    """
    try:
        with open(path, "rb") as f:
            moov = None
            offset = 0
            size_total = os.fstat(f.fileno()).st_size
            while offset + 8 <= size_total:
                f.seek(offset)
                head = f.read(16)
                size, kind = struct.unpack(">I4s", head[:8])
                if size == 1:
                    size = struct.unpack(">Q", head[8:16])[0]
                elif size == 0:
                    size = size_total - offset
                if size < 8:
                    return None
                if kind == b"moov":
                    f.seek(offset)
                    moov = f.read(size)
                    break
                offset += size
        if moov is None:
            return None
        for kind, start, end in _mp4_boxes(moov, 8, len(moov)):
            if kind != "trak":
                continue
            found = {}

            def walk(data, s, e):
                for k, ps, pe in _mp4_boxes(data, s, e):
                    if k in ("mdia", "minf", "stbl"):
                        walk(data, ps, pe)
                    elif k in ("hdlr", "mdhd", "stts", "stss"):
                        found[k] = data[ps:pe]

            walk(moov, start, end)
            if found.get("hdlr", b"")[8:12] != b"vide" or "mdhd" not in found or "stts" not in found:
                continue
            mdhd = found["mdhd"]
            timescale = struct.unpack(">I", mdhd[20:24] if mdhd[0] == 1 else mdhd[12:16])[0]
            stts = found["stts"]
            times = [0]  # decode time of each sample, then the end time
            for i in range(struct.unpack(">I", stts[4:8])[0]):
                count, delta = struct.unpack(">II", stts[8 + 8 * i:16 + 8 * i])
                for _ in range(count):
                    times.append(times[-1] + delta)
            duration = times[-1]
            if "stss" not in found:  # every sample is a keyframe
                return duration * Gst.SECOND // timescale, duration * Gst.SECOND // timescale
            stss = found["stss"]
            keys = [struct.unpack(">I", stss[8 + 4 * i:12 + 4 * i])[0] - 1
                    for i in range(struct.unpack(">I", stss[4:8])[0])]
            key_times = [times[k] for k in keys if 0 <= k < len(times) - 1]
            loop_end = duration
            if len(key_times) >= 2 and duration - key_times[-1] < key_times[-1] - key_times[-2]:
                loop_end = key_times[-1]
            return loop_end * Gst.SECOND // timescale, duration * Gst.SECOND // timescale
    except (OSError, struct.error, IndexError):
        return None
    return None


class LoopingFileMedia(GstRtspServer.RTSPMedia):
    """A shared media whose pipeline loops an MP4 file forever without re-encoding."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._label = "?"
        self._demux_pad = None  # qtdemux video source pad
        self._loops = 0
        self._next_base = 0  # running time (ns) at which the next segment from the demuxer must start
        self._loop_end = -1  # stream time (ns) where each loop ends; -1: end of file

    # Called by the factory right after the media is created from the launch line.
    def setup_loop(self, label, loop_end):
        self._label = label
        self._loop_end = loop_end
        element = self.get_element()
        parse = element.get_by_name("parse")
        parse.get_static_pad("src").add_probe(Gst.PadProbeType.QUERY_UPSTREAM, _not_seekable_probe)
        element.get_by_name("demux").connect("pad-added", self._on_pad_added)

    def _on_pad_added(self, _demux, pad):
        if self._demux_pad is None and pad.get_name().startswith("video"):
            self._demux_pad = pad
            pad.add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM, self._on_demux_event)

    def _on_demux_event(self, pad, info):
        # Every SEGMENT the demuxer sends (the first one, and one after each seek back to 0) is placed so that
        # it starts exactly one loop after the previous one. qtdemux itself accumulates the running time of
        # the last frame it pushed, not the end of that frame, which would repeat one timestamp per seam.
        # The segment seen here already carries the pad's current offset.
        event = info.get_event()
        if event is not None and event.type == Gst.EventType.SEGMENT:
            segment = event.parse_segment()
            if segment.format == Gst.Format.TIME:
                pad.set_offset(pad.get_offset() + self._next_base - segment.base)
        return Gst.PadProbeReturn.OK

    def _segment_seek(self, flush):
        # Sent straight to the demuxer's source pad: a seek on the media pipeline goes through sinks that may
        # not be linked yet (the pipeline is prepared on DESCRIBE, before any client transport exists).
        flags = Gst.SeekFlags.SEGMENT
        if flush:
            flags |= Gst.SeekFlags.FLUSH
        stop_type = Gst.SeekType.SET if self._loop_end >= 0 else Gst.SeekType.NONE
        event = Gst.Event.new_seek(1.0, Gst.Format.TIME, flags, Gst.SeekType.SET, 0, stop_type, self._loop_end)
        ok = self._demux_pad is not None and self._demux_pad.send_event(event)
        if not ok:
            log(f"{self._label}: segment seek (flush={flush}) failed")
        return ok

    def do_prepared(self):
        # Before any client plays: replace the plain playback segment by a looping one, so that the demuxer
        # posts SEGMENT_DONE at the end of the file instead of EOS (seeking after EOS stalls qtdemux).
        self._loops = 0
        self._next_base = 0
        if self._segment_seek(flush=True):
            # The flush removed the payloader's SEGMENT; a PLAY before the new one arrives makes
            # gst-rtsp-server 1.22 abort (gst_rtsp_media_get_rates: assertion failed). This runs in the thread
            # that prepares the media, before the server answers the request, so waiting here closes the gap.
            pad = self.get_element().get_by_name("pay0").get_static_pad("src")
            deadline = time.monotonic() + 5.0
            while pad.get_sticky_event(Gst.EventType.SEGMENT, 0) is None:
                if time.monotonic() > deadline:
                    log(f"{self._label}: no SEGMENT on the payloader 5 s after the initial seek")
                    break
                time.sleep(0.002)

    def do_handle_message(self, message):
        if message.type == Gst.MessageType.SEGMENT_DONE:
            _fmt, stop = message.parse_segment_done()  # stream time where the loop ended
            self._loops += 1
            self._next_base += stop
            self._segment_seek(flush=False)
            log(f"{self._label}: loop {self._loops} ({stop / Gst.SECOND:.3f} s per loop)")
            return True
        return GstRtspServer.RTSPMedia.do_handle_message(self, message)


class LoopingFileFactory(GstRtspServer.RTSPMediaFactory):
    def __init__(self, path, label, loop_end):
        super().__init__()
        self._label = label
        self._loop_end = loop_end
        location = path.replace("\\", "\\\\").replace('"', '\\"')
        self.set_launch(
            f'( filesrc location="{location}" ! qtdemux name=demux '
            "demux.video_0 "
            "! h264parse name=parse config-interval=-1 "
            "! rtph264pay name=pay0 pt=96 )"
        )
        self.set_shared(True)
        self.set_media_gtype(LoopingFileMedia)
        self.set_eos_shutdown(False)
        self.set_stop_on_disconnect(True)

    def do_configure(self, media):
        GstRtspServer.RTSPMediaFactory.do_configure(self, media)
        media.setup_loop(self._label, self._loop_end)


# --------------------------------------------------------------------------------------------------------------
# Live test pattern
# --------------------------------------------------------------------------------------------------------------


def pattern_factory(width, height, fps, style):
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f"( videotestsrc is-live=true pattern={style} "
        f"! video/x-raw,width={width},height={height},framerate={fps}/1 "
        "! videoconvert "
        f"! x264enc tune=zerolatency speed-preset=ultrafast bframes=0 key-int-max={2 * fps} "
        "! video/x-h264,profile=constrained-baseline "
        "! h264parse config-interval=-1 "
        "! rtph264pay name=pay0 pt=96 )"
    )
    # One pipeline per client: a shared live encoder corrupted the timestamps of a connected recorder when a
    # second client joined.
    factory.set_shared(False)
    return factory


# --------------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------------


def mount_path(value):
    if not value.startswith("/") or len(value) < 2 or " " in value:
        raise argparse.ArgumentTypeError(f"mount path must look like /name: {value!r}")
    return value


def file_mount(value):
    path, sep, file = value.partition("=")
    if not sep or not file:
        raise argparse.ArgumentTypeError(f"expected /path=FILE.mp4, got {value!r}")
    mount_path(path)
    if not os.path.isfile(file):
        raise argparse.ArgumentTypeError(f"no such file: {file}")
    return path, os.path.abspath(file)


def size(value):
    try:
        w, h = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH, got {value!r}") from None
    if w <= 0 or h <= 0 or w % 2 or h % 2:
        raise argparse.ArgumentTypeError(f"width and height must be positive and even: {value!r}")
    return w, h


def main():
    parser = argparse.ArgumentParser(
        prog="rtsp-test-server.py",
        description="RTSP test cameras on 127.0.0.1 (GStreamer gst-rtsp-server).",
    )
    parser.add_argument("--port", type=int, default=8554, help="TCP port on 127.0.0.1 (0: pick a free one)")
    parser.add_argument("--pattern", action="append", default=[], type=mount_path, metavar="/PATH",
                        help="mount a live videotestsrc camera (repeatable)")
    parser.add_argument("--file", action="append", default=[], type=file_mount, metavar="/PATH=FILE.mp4",
                        help="mount a looping H.264 MP4 camera, no re-encoding (repeatable)")
    parser.add_argument("--size", type=size, default=(1280, 720), metavar="WxH",
                        help="picture size of --pattern mounts (default 1280x720)")
    parser.add_argument("--fps", type=int, default=10, help="frame rate of --pattern mounts (default 10)")
    parser.add_argument("--full-loop", action="store_true",
                        help="--file mounts: loop the whole file even when its last GOP is short (by default the "
                             "loop ends at the last keyframe so that the keyframe cadence never breaks)")
    parser.add_argument("--pattern-style", default="smpte",
                        help="videotestsrc pattern of --pattern mounts (default smpte; e.g. ball, snow)")
    args = parser.parse_args()

    if not args.pattern and not args.file:
        parser.error("give at least one --pattern or --file mount")
    mounts = args.pattern + [p for p, _ in args.file]
    if len(set(mounts)) != len(mounts):
        parser.error("mount paths must be unique")
    if not 1 <= args.fps <= 60:
        parser.error("--fps must be 1..60")

    for element in ("videotestsrc", "x264enc", "qtdemux", "h264parse", "rtph264pay"):
        if Gst.ElementFactory.find(element) is None:
            log(f"GStreamer element {element} is missing: run eng/setup.sh")
            return 1

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mounts_obj = server.get_mount_points()

    width, height = args.size
    for path in args.pattern:
        mounts_obj.add_factory(path, pattern_factory(width, height, args.fps, args.pattern_style))
        log(f"mount {path}: videotestsrc {width}x{height} @ {args.fps} fps ({args.pattern_style})")
    for path, file in args.file:
        loop_end = -1
        point = mp4_video_loop_point(file)
        if point is None:
            log(f"mount {path}: cannot read the MP4 sample tables of {file}; looping at the end of the file")
            note = "whole file"
        else:
            end, duration = point
            if end < duration and not args.full_loop:
                loop_end = end
                note = f"{end / Gst.SECOND:.3f} s of {duration / Gst.SECOND:.3f} s, at the last keyframe"
            else:
                note = f"whole file, {duration / Gst.SECOND:.3f} s"
        mounts_obj.add_factory(path, LoopingFileFactory(file, path, loop_end))
        log(f"mount {path}: {file} (looped without re-encoding; loop: {note})")

    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        log(f"cannot listen on 127.0.0.1:{args.port}")
        return 1

    def stop(signame):
        log(f"{signame}: stopping")
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, stop, "SIGTERM")
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, stop, "SIGINT")

    # Periodically expire sessions of clients that vanished without TEARDOWN.
    pool = server.get_session_pool()
    GLib.timeout_add_seconds(2, lambda: (pool.cleanup(), GLib.SOURCE_CONTINUE)[1])

    print(f"READY rtsp://127.0.0.1:{server.get_bound_port()}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
