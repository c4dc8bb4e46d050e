// Live video in a <video>: fMP4 fragments (one per frame) over a WebSocket from Core, appended to Media Source
// Extensions. Each fragment carries its capture time, so the player knows the glass-to-glass latency of the frame on
// screen (now - capture time). Reconnects by itself; stops when the signal aborts.
import { mediaToken } from './api.js';

const HEADER_LENGTH = 24;
const KIND_INIT = 1;
const KIND_FRAGMENT = 2;
const KEEP_BEHIND_S = 8;        // media kept behind the play position (older data is removed from the buffer)
const MAX_DRIFT_S = 0.6;        // further behind the newest frame than this: jump to it
const RECONNECT_MS = [500, 1000, 2000, 5000];

/** Reads the 24-byte header the Recorder puts before each init segment and fragment (big-endian). */
export function parseHeader(buffer) {
  const view = new DataView(buffer);
  return {
    kind: view.getUint8(0),
    keyframe: (view.getUint8(1) & 1) === 1,
    epoch: view.getUint32(4),
    captureMs: view.getFloat64(8),
    mediaStart: view.getFloat64(16),
  };
}

export class LivePlayer extends EventTarget {
  /** `stream`: 'main' (camera page) or 'sub' (grid; the main stream when the camera has no sub-stream). */
  constructor(video, cameraId, { stream = 'main' } = {}) {
    super();
    this.video = video;
    this.cameraId = cameraId;
    this.stream = stream;
    this.timeline = [];          // [{ mediaStart, captureMs }] of the current epoch, oldest first
    this.latencyMs = null;
    this.state = 'connecting';
    this.info = null;            // the init message: codec, width, height, stream
    this.#frameCallback = (now, metadata) => this.#onFrame(now, metadata);
  }

  #socket = null;
  #mediaSource = null;
  #buffer = null;
  #queue = [];
  #epoch = -1;
  #objectUrl = null;
  #signal = null;
  #attempt = 0;
  #frameCallback;

  static get supported() {
    return typeof window.MediaSource !== 'undefined' && typeof window.WebSocket !== 'undefined';
  }

  /** Plays until `signal` aborts. */
  start(signal) {
    this.#signal = signal;
    signal.addEventListener('abort', () => this.#teardown());
    this.#connect();
    if (this.video.requestVideoFrameCallback) this.video.requestVideoFrameCallback(this.#frameCallback);
    else this.video.addEventListener('timeupdate', () => this.#measure());
  }

  async #connect() {
    if (this.#signal.aborted) return;
    this.#setState('connecting');
    let token;
    try {
      token = await mediaToken(this.cameraId);
    } catch {
      this.#retry();
      return;
    }
    if (this.#signal.aborted) return;
    // Ask first: a WebSocket to a camera that is not streaming fails loudly in the browser's console.
    try {
      const response = await fetch(`/api/v1/cameras/${this.cameraId}/live/status?token=${encodeURIComponent(token)}`, { signal: this.#signal, cache: 'no-store' });
      const status = response.ok ? await response.json() : { streams: [] };
      const live = new Set(status.streams.filter((s) => s.live).map((s) => s.stream));
      if (!live.has(this.stream) && !(this.stream === 'sub' && live.has('main'))) {
        this.#setState('waiting');
        this.#retry();
        return;
      }
    } catch {
      if (this.#signal.aborted) return;
      this.#setState('waiting');
      this.#retry();
      return;
    }
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${scheme}//${location.host}/api/v1/cameras/${this.cameraId}/live/ws?stream=${this.stream}&token=${encodeURIComponent(token)}`;
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    socket.addEventListener('message', (event) => this.#onMessage(event.data));
    socket.addEventListener('close', (event) => {
      if (this.#socket !== socket || this.#signal.aborted) return;
      this.#socket = null;
      this.#setState(event.code === 1008 ? 'slow' : 'waiting');
      this.#retry();
    });
  }

  #retry() {
    const delay = RECONNECT_MS[Math.min(this.#attempt, RECONNECT_MS.length - 1)];
    this.#attempt += 1;
    setTimeout(() => this.#connect(), delay);
  }

  #onMessage(data) {
    if (typeof data === 'string') {
      const message = JSON.parse(data);
      if (message.type === 'init') {
        this.info = message;
        this.dispatchEvent(new CustomEvent('info', { detail: message }));
      }
      return;
    }
    const header = parseHeader(data);
    const payload = data.slice(HEADER_LENGTH);
    if (header.kind === KIND_INIT) {
      this.#attempt = 0;
      this.#startEpoch(header.epoch, payload);
    } else if (header.kind === KIND_FRAGMENT && header.epoch === this.#epoch) {
      this.timeline.push({ mediaStart: header.mediaStart, captureMs: header.captureMs });
      if (this.timeline.length > 600) this.timeline.splice(0, this.timeline.length - 600);
      this.#append(payload);
    }
  }

  // A new init segment (first, or the camera's ffmpeg restarted): a fresh MediaSource, media time starts again.
  #startEpoch(epoch, init) {
    this.#epoch = epoch;
    this.timeline = [];
    this.#queue = [init];
    this.#buffer = null;
    if (this.#objectUrl) URL.revokeObjectURL(this.#objectUrl);
    const mediaSource = new MediaSource();
    this.#mediaSource = mediaSource;
    this.#objectUrl = URL.createObjectURL(mediaSource);
    mediaSource.addEventListener('sourceopen', () => {
      if (this.#mediaSource !== mediaSource || !this.info) return;
      try {
        const buffer = mediaSource.addSourceBuffer(this.info.mime);
        buffer.mode = 'segments';
        buffer.addEventListener('updateend', () => this.#drain());
        this.#buffer = buffer;
        this.#drain();
      } catch (error) {
        this.#setState('unsupported');
        this.dispatchEvent(new CustomEvent('error', { detail: error }));
      }
    }, { once: true });
    this.video.src = this.#objectUrl;
  }

  #append(payload) {
    this.#queue.push(payload);
    if (this.#queue.length > 300) {
      // The tab was in the background: start over from the next init rather than decode a backlog.
      this.#socket?.close();
      return;
    }
    this.#drain();
  }

  #drain() {
    const buffer = this.#buffer;
    if (!buffer || buffer.updating || this.#queue.length === 0) return;
    try {
      const ranges = buffer.buffered;
      const now = this.video.currentTime;
      if (ranges.length > 0 && now - ranges.start(0) > KEEP_BEHIND_S + 2) {
        buffer.remove(ranges.start(0), now - KEEP_BEHIND_S);
        return;
      }
      buffer.appendBuffer(this.#queue.shift());
    } catch (error) {
      this.dispatchEvent(new CustomEvent('error', { detail: error }));
      this.#socket?.close();
      return;
    }
    this.#followLiveEdge();
  }

  // Stay on the newest frame: joining starts at the last keyframe, and a stalled tab falls behind.
  #followLiveEdge() {
    const ranges = this.video.buffered;
    if (ranges.length === 0) return;
    const end = ranges.end(ranges.length - 1);
    if (this.video.paused) {
      this.video.currentTime = Math.max(ranges.start(ranges.length - 1), end - 0.1);
      this.video.play().catch(() => {});
    } else if (end - this.video.currentTime > MAX_DRIFT_S) {
      this.video.currentTime = end - 0.1;
    }
    if (this.state !== 'live') this.#setState('live');
  }

  #onFrame(_now, metadata) {
    if (this.#signal.aborted) return;
    this.#measure(metadata?.mediaTime);
    this.video.requestVideoFrameCallback(this.#frameCallback);
  }

  /** Latency of the frame on screen: now - its capture time (from the fragment that holds it). */
  #measure(mediaTime = this.video.currentTime) {
    const timeline = this.timeline;
    if (timeline.length === 0) return;
    let entry = null;
    for (let i = timeline.length - 1; i >= 0; i -= 1) {
      if (timeline[i].mediaStart <= mediaTime + 0.0005) {
        entry = timeline[i];
        break;
      }
    }
    if (!entry) return;
    const captureMs = entry.captureMs + (mediaTime - entry.mediaStart) * 1000;
    this.latencyMs = Date.now() - captureMs;
    this.video.dataset.latencyMs = String(Math.round(this.latencyMs));
    this.dispatchEvent(new CustomEvent('latency', { detail: this.latencyMs }));
  }

  #setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }

  #teardown() {
    const socket = this.#socket;
    this.#socket = null;
    socket?.close();
    this.#buffer = null;
    this.#mediaSource = null;
    this.#queue = [];
    this.video.removeAttribute('src');
    this.video.load();
    if (this.#objectUrl) URL.revokeObjectURL(this.#objectUrl);
    this.#objectUrl = null;
  }
}
