import { api } from '../api.js';
import { startLive } from '../live.js';
import { LivePlayer } from '../liveplayer.js';
import { badge, clear, errorBox, formatDateTime, h, stateBadge } from '../ui.js';

const REFRESH_MS = 5000;

export async function render(main, { signal }) {
  const grid = h('ul', { class: 'camera-grid', id: 'camera-grid', 'aria-label': 'Cameras' });
  const status = h('p', { class: 'muted', id: 'cameras-status', role: 'status' }, 'Loading cameras…');
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Cameras')), status, grid);

  const { cameras } = await api('/api/v1/cameras', { signal });
  if (cameras.length === 0) {
    status.textContent = 'No cameras to show. An administrator adds cameras and grants them to users in Settings.';
    return;
  }
  status.textContent = `${cameras.length} camera${cameras.length === 1 ? '' : 's'}`;
  const cards = new Map();
  for (const camera of cameras) {
    const card = cameraCard(camera, signal);
    cards.set(camera.id, card);
    grid.append(card.element);
  }

  // recording_state and the person count change under our feet: refresh both every few seconds.
  const refresh = async () => {
    try {
      const latest = await api('/api/v1/cameras', { signal });
      for (const camera of latest.cameras) cards.get(camera.id)?.update(camera);
      await Promise.all([...cards.values()].map((c) => c.refreshCount()));
    } catch {
      // Shown again at the next refresh; the live images carry on.
    }
  };
  await Promise.all([...cards.values()].map((c) => c.refreshCount()));
  const timer = setInterval(refresh, REFRESH_MS);
  signal.addEventListener('abort', () => clearInterval(timer));
}

function cameraCard(camera, signal) {
  // Live video (the sub-stream where the camera has one) once it plays; the still image until then or as a fallback.
  const video = h('video', { class: 'live-video', muted: true, playsInline: true, autoplay: true, hidden: true, 'aria-label': `Live video of ${camera.name}` });
  const img = h('img', { class: 'live-image', alt: `Live image of ${camera.name}`, width: 640, height: 360, hidden: true });
  const placeholder = h('div', { class: 'live-placeholder' }, 'Waiting for a live image…');
  const latency = h('span', { class: 'latency muted', 'aria-live': 'off' });
  const state = h('span', {}, stateBadge(camera.recording_state));
  const count = h('span', { class: 'count-slot' });
  const lastRecording = h('small', { class: 'muted' });
  const element = h('li', { class: 'camera-card card', dataset: { cameraId: camera.id } },
    h('a', { href: `/cameras/${camera.id}`, 'data-link': true, class: 'camera-link' },
      h('div', { class: 'live-frame' }, video, img, placeholder),
      h('h2', { class: 'camera-name' }, camera.name)),
    h('div', { class: 'camera-meta' }, state, count, latency),
    lastRecording);

  let liveStarted = null;
  let stills = null;
  const showStills = () => {
    if (stills || signal.aborted) return;
    stills = new AbortController();
    signal.addEventListener('abort', () => stills?.abort());
    startLive(img, camera.id, stills.signal, (s) => {
      img.hidden = s !== 'live' && !img.src;
      placeholder.hidden = !img.hidden;
      placeholder.textContent = s === 'error' ? 'Live image unavailable (recorder unreachable).' : 'Waiting for a live image…';
      element.dataset.live = s;
    });
  };
  const startIfLeased = (c) => {
    if (c.recorder_id && !liveStarted) {
      liveStarted = new AbortController();
      signal.addEventListener('abort', () => liveStarted.abort());
      // The still image only when there is no video (not streaming, or no Media Source Extensions here).
      if (!LivePlayer.supported) {
        showStills();
      } else {
        const player = new LivePlayer(video, c.id, { stream: 'sub' });
        player.addEventListener('state', ({ detail }) => {
          element.dataset.video = detail;
          if (detail === 'live') {
            stills?.abort();
            stills = null;
            video.hidden = false;
            img.hidden = true;
            placeholder.hidden = true;
            element.dataset.live = 'live';
          } else if (detail !== 'connecting') {
            video.hidden = true;
            showStills();
          }
        });
        player.addEventListener('latency', ({ detail }) => { latency.textContent = `${(detail / 1000).toFixed(1)} s`; });
        player.start(liveStarted.signal);
      }
    } else if (!c.recorder_id) {
      placeholder.textContent = c.is_active ? 'Not recording now: no live image.' : 'Camera disabled.';
      element.dataset.live = 'none';
    }
  };

  const update = (c) => {
    clear(state).append(stateBadge(c.recording_state));
    lastRecording.textContent = c.last_recording_at_unix ? `Last recording ${formatDateTime(c.last_recording_at_unix * 1000)}` : 'No recording yet';
    startIfLeased(c);
  };

  const refreshCount = async () => {
    try {
      const { events } = await api(`/api/v1/events/latest?camera_id=${camera.id}&task=person_counting&limit=1`, { signal });
      clear(count);
      if (events.length > 0 && events[0].count !== null) {
        const e = events[0];
        count.append(badge(`${e.count} ${e.count === 1 ? 'person' : 'people'}`, 'count'));
        count.title = `person_counting at ${formatDateTime(e.executed_at)}`;
      }
    } catch (error) {
      if (!signal.aborted) clear(count).append(errorBox(error.message));
    }
  };

  update(camera);
  return { element, update, refreshCount };
}
