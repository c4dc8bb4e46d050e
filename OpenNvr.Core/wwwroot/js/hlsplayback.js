// HLS in a <video>: the browser's own player where it has one (Safari, Chromium), hls.js (vendored, loaded only when
// needed) where it has not (Firefox) or when forced (?hls=hlsjs in the page URL, used by the browser tests).

const HLS_MODULE = '/vendor/hls.js/hls.light.min.mjs';

/** 'native', 'hlsjs' or null (no way to play HLS here). */
export async function hlsMode() {
  const forced = new URLSearchParams(location.search).get('hls');
  const video = document.createElement('video');
  const native = video.canPlayType('application/vnd.apple.mpegurl') !== '';
  if (forced !== 'hlsjs' && native) return 'native';
  const Hls = await loadHls();
  return Hls?.isSupported() ? 'hlsjs' : (native ? 'native' : null);
}

let loading = null;
function loadHls() {
  loading ??= import(HLS_MODULE).then((module) => module.default).catch(() => null);
  return loading;
}

/**
 * Attaches `url` to `video` and resolves once metadata is loaded. `live`: low-latency settings (hls.js follows
 * LL-HLS parts). Returns a detach function.
 */
export async function attachHls(video, url, { live = false } = {}) {
  const mode = await hlsMode();
  if (mode === null) throw new Error('This browser cannot play HLS.');
  video.dataset.hlsMode = mode;
  if (mode === 'native') {
    await loadSource(video, () => { video.src = url; video.load(); });
    return () => { video.removeAttribute('src'); video.load(); };
  }
  const Hls = await loadHls();
  // The transmuxer runs on the page (no worker): fMP4 needs no transmuxing and the console's CSP allows no blob: workers.
  const hls = new Hls({ enableWorker: false, lowLatencyMode: live, backBufferLength: live ? 10 : 30 });
  await loadSource(video, () => {
    hls.loadSource(url);
    hls.attachMedia(video);
  }, (fail) => hls.on(Hls.Events.ERROR, (_event, data) => { if (data.fatal) fail(new Error(`HLS error: ${data.details}`)); }));
  return () => hls.destroy();
}

function loadSource(video, start, watchErrors = () => {}) {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      video.removeEventListener('loadedmetadata', ok);
      video.removeEventListener('error', failed);
    };
    const ok = () => { cleanup(); resolve(); };
    const fail = (error) => { cleanup(); reject(error); };
    const failed = () => fail(new Error(`The video could not be loaded (${video.error?.message || 'media error'}).`));
    video.addEventListener('loadedmetadata', ok);
    video.addEventListener('error', failed);
    watchErrors(fail);
    start();
  });
}
