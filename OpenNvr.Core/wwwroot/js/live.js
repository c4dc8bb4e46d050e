// A camera's live image: Core proxies the Recorder's latest frame; fetched about once a second with a media token.
import { mediaToken } from './api.js';

const INTERVAL_MS = 1000;
const IDLE_MS = 5000;

/**
 * Keeps `img` showing the camera's latest frame until `signal` aborts. `onState` hears 'live', 'waiting' (no recorder
 * or no frame yet) or 'error'. Returns nothing; stops by itself when the signal aborts.
 */
export function startLive(img, cameraId, signal, onState = () => {}) {
  let objectUrl = null;
  let timer = 0;
  signal.addEventListener('abort', () => {
    clearTimeout(timer);
    if (objectUrl) URL.revokeObjectURL(objectUrl);
  });

  const tick = async () => {
    if (signal.aborted) return;
    if (document.hidden) {
      timer = setTimeout(tick, IDLE_MS);
      return;
    }
    let wait = INTERVAL_MS;
    try {
      const token = await mediaToken(cameraId);
      const response = await fetch(`/api/v1/cameras/${cameraId}/frame.jpg?token=${encodeURIComponent(token)}`, { signal, cache: 'no-store' });
      if (response.ok) {
        const blob = await response.blob();
        const next = URL.createObjectURL(blob);
        img.src = next;
        if (objectUrl) URL.revokeObjectURL(objectUrl);
        objectUrl = next;
        img.dataset.frameAt = response.headers.get('X-Frame-Captured-At') ?? String(Date.now());
        onState('live');
      } else {
        onState(response.status === 404 ? 'waiting' : 'error');
        wait = IDLE_MS;
      }
    } catch (error) {
      if (signal.aborted) return;
      onState('error');
      wait = IDLE_MS;
    }
    timer = setTimeout(tick, wait);
  };
  tick();
}
