// Plays a camera's recordings from a wall-clock instant through Core's playlist: the browser's own HLS where it has
// it (Chromium, Safari), hls.js where it has not (Firefox; or forced with ?hls=hlsjs), else chunk after chunk as plain
// MP4 files. Maps video time to wall-clock time both ways.
import { api, mediaToken, mediaTokenWithExpiry } from './api.js';
import { attachHls, hlsMode } from './hlsplayback.js';

// Below the 60 s at which the token cache mints a new one, so the renewal gets a fresh token.
const RENEW_MARGIN_MS = 45_000;

const PLAYLIST_SPAN_S = 3600;

/** Parses Core's VOD playlist into segments with wall-clock start (ms), duration (s), chunk id and offset (s). */
export function parsePlaylist(text) {
  const segments = [];
  let dateTime = null;
  let duration = null;
  let offset = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) dateTime = Date.parse(line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length));
    else if (line.startsWith('#EXTINF:')) duration = parseFloat(line.slice('#EXTINF:'.length));
    else if (line && !line.startsWith('#')) {
      const chunkId = parseInt(line, 10);
      segments.push({ start: dateTime, duration, chunkId, offset });
      offset += duration;
      dateTime = null;
      duration = null;
    }
  }
  return segments;
}

export class RecordingPlayer extends EventTarget {
  constructor(video, cameraId) {
    super();
    this.video = video;
    this.cameraId = cameraId;
    this.segments = [];
    this.mode = null; // 'hls' (native), 'hlsjs' or 'chunks', chosen on the first playFrom
    this.detachHls = null;
    this.chunkIndex = 0;
    this.rangeEnd = 0;
    video.addEventListener('ended', () => this.#onEnded());
    video.addEventListener('timeupdate', () => this.dispatchEvent(new Event('position')));
  }

  /** Loads the recordings from `wallMs` on and starts playing there (or at the next recording after it). */
  async playFrom(wallMs) {
    const startS = wallMs / 1000;
    const endS = Math.min(startS + PLAYLIST_SPAN_S, Date.now() / 1000 + 60);
    if (endS <= startS) throw new Error('That instant is in the future.');
    const query = `start_unix=${startS.toFixed(3)}&end_unix=${endS.toFixed(3)}`;
    const text = await api(`/api/v1/recordings/${this.cameraId}/playlist.m3u8?${query}`, { text: true });
    const segments = parsePlaylist(text);
    if (segments.length === 0) throw new Error('No recording from that instant on.');
    this.segments = segments;
    this.rangeEnd = endS * 1000;
    let index = segments.findIndex((s) => wallMs < s.start + s.duration * 1000);
    if (index < 0) index = segments.length - 1;
    const within = Math.max(0, (wallMs - segments[index].start) / 1000);
    const { token, expires_at: expiresAt } = await mediaTokenWithExpiry(this.cameraId);
    const rate = this.video.playbackRate;
    this.mode ??= { native: 'hls', hlsjs: 'hlsjs' }[await hlsMode()] ?? 'chunks';
    this.video.dataset.playbackMode = this.mode;
    if (this.mode === 'hlsjs') {
      this.#detach();
      this.detachHls = await attachHls(this.video, `/api/v1/recordings/${this.cameraId}/playlist.m3u8?${query}&token=${encodeURIComponent(token)}`);
      const seconds = segments[index].offset + within;
      if (seconds > 0) this.video.currentTime = seconds;
    } else if (this.mode === 'hls') {
      this.query = query;
      await this.#load(`/api/v1/recordings/${this.cameraId}/playlist.m3u8?${query}&token=${encodeURIComponent(token)}`,
        segments[index].offset + within);
      this.#renewBefore(expiresAt);
    } else {
      this.chunkIndex = index;
      await this.#load(this.chunkUrl(segments[index].chunkId, token), within);
    }
    this.video.playbackRate = rate;
    await this.video.play().catch(() => {});
    return { startedAt: segments[index].start + within * 1000, skippedGap: wallMs < segments[index].start };
  }

  /**
   * The playlist's segment URLs carry the media token it was loaded with, which lives minutes and is never renewed
   * by Core; before it runs out the same playlist is reloaded with a fresh token at the same position.
   */
  #renewBefore(expiresAt) {
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(async () => {
      if (this.mode !== 'hls' || !this.video.isConnected || !this.query) return;
      try {
        const { token, expires_at: next } = await mediaTokenWithExpiry(this.cameraId);
        const at = this.video.currentTime;
        const paused = this.video.paused;
        const rate = this.video.playbackRate;
        await this.#load(`/api/v1/recordings/${this.cameraId}/playlist.m3u8?${this.query}&token=${encodeURIComponent(token)}`, at);
        this.video.playbackRate = rate;
        if (!paused) await this.video.play().catch(() => {});
        this.#renewBefore(next);
      } catch {
        this.dispatchEvent(new Event('finished'));
      }
    }, Math.max(5_000, expiresAt - Date.now() - RENEW_MARGIN_MS));
  }

  #detach() {
    this.detachHls?.();
    this.detachHls = null;
  }

  get #fromPlaylist() {
    return this.mode === 'hls' || this.mode === 'hlsjs';
  }

  #load(src, seconds) {
    this.#detach();
    return new Promise((resolve, reject) => {
      const video = this.video;
      const cleanup = () => {
        video.removeEventListener('loadedmetadata', ok);
        video.removeEventListener('error', fail);
      };
      const ok = () => {
        cleanup();
        if (seconds > 0) video.currentTime = seconds;
        resolve();
      };
      const fail = () => {
        cleanup();
        reject(new Error(`The video could not be loaded (${video.error?.message || 'media error'}).`));
      };
      video.addEventListener('loadedmetadata', ok);
      video.addEventListener('error', fail);
      video.src = src;
      video.load();
    });
  }

  chunkUrl(chunkId, token) {
    return `/api/v1/recordings/${this.cameraId}/${chunkId}/file?token=${encodeURIComponent(token)}`;
  }

  /** The segment playing now and the wall-clock time (ms) of the current frame, or null before anything loaded. */
  position() {
    if (this.segments.length === 0 || !this.video.currentSrc) return null;
    const t = this.video.currentTime;
    if (!this.#fromPlaylist) {
      const segment = this.segments[this.chunkIndex];
      return { segment, wallMs: segment.start + t * 1000 };
    }
    let segment = this.segments[0];
    for (const s of this.segments) {
      if (s.offset <= t) segment = s;
      else break;
    }
    return { segment, wallMs: segment.start + (t - segment.offset) * 1000 };
  }

  /** Seeks within what is loaded; false when `wallMs` is outside it (the caller then calls playFrom). */
  seekWithin(wallMs) {
    const index = this.segments.findIndex((s) => wallMs >= s.start && wallMs < s.start + s.duration * 1000);
    if (index < 0) return false;
    const segment = this.segments[index];
    const within = (wallMs - segment.start) / 1000;
    if (this.#fromPlaylist) {
      this.video.currentTime = segment.offset + within;
      return true;
    }
    if (index !== this.chunkIndex) return false;
    this.video.currentTime = within;
    return true;
  }

  async #onEnded() {
    if (this.segments.length === 0) return;
    if (this.mode === 'chunks' && this.chunkIndex + 1 < this.segments.length) {
      this.chunkIndex += 1;
      const token = await mediaToken(this.cameraId);
      await this.#load(this.chunkUrl(this.segments[this.chunkIndex].chunkId, token), 0);
      await this.video.play().catch(() => {});
      return;
    }
    // End of the loaded hour: carry on with the next one if there is more.
    const last = this.segments[this.segments.length - 1];
    const next = last.start + last.duration * 1000;
    if (next < Date.now() - 1000 && this.rangeEnd < Date.now()) {
      try {
        await this.playFrom(next + 1);
      } catch {
        this.dispatchEvent(new Event('finished'));
      }
    } else {
      this.dispatchEvent(new Event('finished'));
    }
  }
}
