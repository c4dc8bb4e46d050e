import { api, mediaToken } from '../api.js';
import { startLive } from '../live.js';
import { LivePlayer } from '../liveplayer.js';
import { occupancyCard, zoneEditorCard } from '../people.js';
import { RecordingPlayer } from '../player.js';
import { detectionsOf, drawBoxes } from '../boxes.js';
import { clear, errorBox, formatDateTime, formatTime, h, stateBadge, toast } from '../ui.js';

const DAY_MS = 24 * 3600 * 1000;
const FOLLOW_REFRESH_MS = 30_000;

export async function render(main, { params, query, signal }) {
  const cameraId = Number(params.id);
  const camera = await api(`/api/v1/cameras/${cameraId}`, { signal });
  const startAt = query.has('t') ? Number(query.get('t')) * 1000 : null;

  // The window is 24 hours; it follows "now" unless the user moved it (or came with ?t=).
  let windowEnd = startAt && Number.isFinite(startAt) ? Math.min(Date.now(), startAt + DAY_MS / 2) : Date.now();
  let following = !startAt;
  let recordings = [];
  let gaps = [];
  let events = [];
  let cursorMs = startAt ?? windowEnd - 60_000;

  const video = h('video', { id: 'player', controls: true, playsInline: true, muted: true, preload: 'metadata', 'aria-label': `Recordings of ${camera.name}` });
  const player = new RecordingPlayer(video, cameraId);
  const playing = h('p', { id: 'playing-at', class: 'muted', 'aria-live': 'polite' }, 'Click the timeline to play the recording at that moment.');
  const speed = h('select', { id: 'speed' }, [0.5, 1, 2, 4, 8].map((s) => h('option', { value: s, selected: s === 1 }, `${s}×`)));
  const nextEvent = h('button', { type: 'button', class: 'button', id: 'next-event' }, 'Next event ▸');
  const download = h('a', { class: 'button', id: 'download-chunk', href: '#', 'aria-disabled': 'true' }, 'Download chunk');
  const timeline = h('div', {
    class: 'timeline', id: 'timeline', role: 'slider', tabindex: 0,
    'aria-label': 'Timeline of the last 24 hours: arrows move, Enter plays',
  });
  const axis = h('div', { class: 'timeline-axis', 'aria-hidden': 'true' });
  const rangeLabel = h('span', { id: 'window-label' });
  const summary = h('p', { id: 'timeline-summary', class: 'muted' });
  const eventList = h('ol', { class: 'event-list', id: 'camera-events' });
  const liveVideo = h('video', { id: 'live-video', class: 'live-video', muted: true, playsInline: true, autoplay: true, hidden: true, 'aria-label': `Live video of ${camera.name}` });
  const liveImg = h('img', { class: 'live-image', alt: `Live image of ${camera.name}`, width: 640, height: 360, hidden: true });
  const livePlaceholder = h('div', { class: 'live-placeholder' }, camera.recorder_id ? 'Waiting for live video…' : 'Not recording now: no live view.');
  const boxesCanvas = h('canvas', { class: 'boxes-overlay', id: 'live-boxes', 'aria-hidden': 'true' });
  const latency = h('span', { id: 'latency', class: 'latency', role: 'status' }, '');
  const showBoxes = h('input', { type: 'checkbox', id: 'show-boxes' });
  const liveModeButton = h('button', { type: 'button', class: 'button', id: 'live-mode', 'aria-pressed': 'true' }, 'Live');
  const recordingsModeButton = h('button', { type: 'button', class: 'button', id: 'recordings-mode', 'aria-pressed': 'false' }, 'Recordings');
  const liveView = h('div', { id: 'live-view' },
    h('div', { class: 'live-frame overlay-host' }, liveVideo, liveImg, livePlaceholder, boxesCanvas),
    h('div', { class: 'player-controls' },
      h('span', {}, 'Glass-to-glass ', latency),
      h('label', { for: 'show-boxes' }, showBoxes, ' Show detection boxes')));
  const recordingsView = h('div', { id: 'recordings-view', hidden: true },
    video,
    h('div', { class: 'player-controls' },
      h('label', { for: 'speed' }, 'Speed '), speed, nextEvent, download),
    playing);

  // Export: a range marked on the timeline, made into one MP4 by Core, with progress and a download link.
  let exportStart = null;
  let exportEnd = null;
  const exportRange = h('p', { id: 'export-range', class: 'muted' }, 'Play the recording (or move the timeline cursor) and mark the start and the end of the clip.');
  const exportProgress = h('progress', { id: 'export-progress', max: 1, value: 0, hidden: true, 'aria-label': 'Export progress' });
  const exportStatus = h('p', { id: 'export-status', role: 'status' });
  const exportDownload = h('a', { id: 'export-download', class: 'button', hidden: true }, 'Download the clip');
  const exportButton = h('button', { type: 'button', class: 'button primary', id: 'export-button', disabled: true }, 'Export clip');

  main.append(
    h('div', { class: 'page-head' },
      h('h1', {}, camera.name),
      stateBadge(camera.recording_state),
      h('a', { href: '/cameras', 'data-link': true, class: 'back' }, '← All cameras')),
    h('section', { class: 'card player-card', 'aria-labelledby': 'playback-h' },
      h('div', { class: 'timeline-head' },
        h('h2', { id: 'playback-h' }, 'Video'),
        h('div', { class: 'button-row', role: 'group', 'aria-label': 'Live or recordings' }, liveModeButton, recordingsModeButton)),
      liveView,
      recordingsView),
    h('section', { class: 'card timeline-card', 'aria-labelledby': 'timeline-h' },
      h('div', { class: 'timeline-head' },
        h('h2', { id: 'timeline-h' }, 'Timeline'),
        rangeLabel,
        h('div', { class: 'button-row' },
          h('button', { type: 'button', class: 'button', id: 'earlier', onclick: () => shift(-DAY_MS / 2) }, '◂ 12 h earlier'),
          h('button', { type: 'button', class: 'button', id: 'later', onclick: () => shift(DAY_MS / 2) }, '12 h later ▸'),
          h('button', { type: 'button', class: 'button', id: 'now', onclick: () => { following = true; windowEnd = Date.now(); load(); } }, 'Now'))),
      timeline, axis,
      h('div', { class: 'legend', 'aria-hidden': 'true' },
        h('span', { class: 'legend-rec' }, 'recorded'), h('span', { class: 'legend-gap' }, 'gap'), h('span', { class: 'legend-event' }, 'event')),
      summary),
    h('section', { class: 'card', 'aria-labelledby': 'export-h' },
      h('h2', { id: 'export-h' }, 'Export a clip'),
      h('div', { class: 'button-row' },
        h('button', { type: 'button', class: 'button', id: 'mark-start', onclick: () => mark('start') }, 'Mark start'),
        h('button', { type: 'button', class: 'button', id: 'mark-end', onclick: () => mark('end') }, 'Mark end'),
        exportButton),
      exportRange, exportProgress, exportStatus, exportDownload),
    h('section', { class: 'card', 'aria-labelledby': 'events-h' },
      h('h2', { id: 'events-h' }, 'Events in this window'),
      eventList));
  // People: the occupancy and line in/out charts, and the zones and lines over the camera's image (people.js).
  main.append(occupancyCard(cameraId, signal), zoneEditorCard(camera, signal));

  // Live (main stream, full quality) and recordings share the card: switching never reloads the page.
  let live = null;
  let stills = null;
  let livePlayer = null;
  function setMode(mode) {
    const isLive = mode === 'live';
    liveModeButton.setAttribute('aria-pressed', String(isLive));
    recordingsModeButton.setAttribute('aria-pressed', String(!isLive));
    liveView.hidden = !isLive;
    recordingsView.hidden = isLive;
    main.dataset.mode = mode;
    if (isLive) {
      video.pause();
      startLiveView();
    } else {
      live?.abort();
      live = null;
      stills = null;
      livePlayer = null;
    }
  }

  function startLiveView() {
    if (live || !camera.recorder_id || signal.aborted) return;
    live = new AbortController();
    const current = live;
    signal.addEventListener('abort', () => current.abort());
    const showStills = () => {
      if (stills || current.signal.aborted) return;
      stills = new AbortController();
      current.signal.addEventListener('abort', () => stills?.abort());
      startLive(liveImg, cameraId, stills.signal, (s) => {
        liveImg.hidden = (s !== 'live' && !liveImg.src) || !liveVideo.hidden;
        livePlaceholder.hidden = !liveImg.hidden || !liveVideo.hidden;
      });
    };
    if (!LivePlayer.supported) {
      showStills();
      return;
    }
    livePlayer = new LivePlayer(liveVideo, cameraId, { stream: 'main' });
    livePlayer.addEventListener('state', ({ detail }) => {
      liveView.dataset.state = detail;
      if (detail === 'live') {
        stills?.abort();
        stills = null;
        liveVideo.hidden = false;
        liveImg.hidden = true;
        livePlaceholder.hidden = true;
      } else if (detail !== 'connecting') {
        liveVideo.hidden = true;
        showStills();
      }
    });
    livePlayer.addEventListener('latency', ({ detail }) => {
      latency.textContent = `${(detail / 1000).toFixed(2)} s`;
      latency.dataset.ms = String(Math.round(detail));
    });
    livePlayer.start(current.signal);
  }

  // Detection boxes over the live view: the camera's latest analysed result, redrawn every 2 s while switched on.
  async function refreshBoxes() {
    const media = liveVideo.hidden ? liveImg : liveVideo;
    if (!showBoxes.checked || liveView.hidden) {
      drawBoxes(boxesCanvas, media, [], 0, 0);
      boxesCanvas.dataset.boxes = '0';
      return;
    }
    try {
      const { events: latest } = await api(`/api/v1/events/latest?camera_id=${cameraId}&limit=1`, { signal });
      const e = latest[0];
      const detections = e && Date.now() - e.executed_at < 10_000 ? detectionsOf(e) : [];
      drawBoxes(boxesCanvas, media, detections,
        liveVideo.videoWidth || liveImg.naturalWidth || livePlayer?.info?.width, liveVideo.videoHeight || liveImg.naturalHeight || livePlayer?.info?.height);
      boxesCanvas.dataset.boxes = String(detections.length);
    } catch {
      // Next round.
    }
  }
  showBoxes.addEventListener('change', refreshBoxes);
  const boxesTimer = setInterval(refreshBoxes, 2000);
  signal.addEventListener('abort', () => clearInterval(boxesTimer));
  liveModeButton.addEventListener('click', () => setMode('live'));
  recordingsModeButton.addEventListener('click', () => setMode('recordings'));

  // Marks take the moment being watched in recordings mode, else the timeline cursor.
  function mark(which) {
    const at = main.dataset.mode === 'recordings' ? (player.position()?.wallMs ?? cursorMs) : cursorMs;
    if (which === 'start') exportStart = at;
    else exportEnd = at;
    if (exportStart !== null && exportEnd !== null && exportEnd < exportStart) [exportStart, exportEnd] = [exportEnd, exportStart];
    exportRange.textContent = `From ${exportStart === null ? '…' : formatDateTime(exportStart)} to ${exportEnd === null ? '…' : formatDateTime(exportEnd)}`;
    exportRange.dataset.startMs = String(exportStart ?? '');
    exportRange.dataset.endMs = String(exportEnd ?? '');
    exportButton.disabled = exportStart === null || exportEnd === null || exportEnd === exportStart;
    drawSelection();
  }

  function drawSelection() {
    timeline.querySelector('.tl-selection')?.remove();
    if (exportStart === null || exportEnd === null) return;
    const from = Math.max(exportStart, windowStart());
    const to = Math.min(exportEnd, windowEnd);
    if (to <= from) return;
    timeline.append(h('div', { class: 'tl-selection', style: { left: pct(from), width: `${((to - from) / DAY_MS) * 100}%` } }));
  }

  exportButton.addEventListener('click', async () => {
    exportButton.disabled = true;
    exportDownload.hidden = true;
    exportProgress.hidden = false;
    exportProgress.value = 0;
    exportStatus.textContent = 'Queued…';
    try {
      const created = await api('/api/v1/exports', {
        method: 'POST', signal,
        json: { camera_id: cameraId, start_unix: exportStart / 1000, end_unix: exportEnd / 1000 },
      });
      let state = created;
      while (state.status === 'queued' || state.status === 'running') {
        await new Promise((resolve) => setTimeout(resolve, 500));
        if (signal.aborted) return;
        state = await api(`/api/v1/exports/${created.id}`, { signal });
        exportProgress.value = state.progress;
        exportStatus.textContent = state.status === 'running' ? `Exporting… ${Math.round(state.progress * 100)} %` : 'Queued…';
      }
      if (state.status !== 'done') throw new Error(state.error || 'The export failed.');
      exportProgress.value = 1;
      const token = await mediaToken(cameraId);
      exportDownload.href = `${state.url}?token=${encodeURIComponent(token)}`;
      exportDownload.setAttribute('download', `camera-${cameraId}-${formatDateTime(state.clip_start_unix * 1000).replace(/[ :]/g, '-')}.mp4`);
      exportDownload.hidden = false;
      exportDownload.dataset.exportId = String(state.id);
      const gaps = state.gaps.length ? ` ${state.gaps.length} gap(s) without recording are skipped.` : '';
      exportStatus.textContent = `Done: ${state.duration_s.toFixed(1)} s, ${(state.size_bytes / 1e6).toFixed(1)} MB.${gaps}`;
    } catch (error) {
      if (!signal.aborted) {
        exportProgress.hidden = true;
        exportStatus.textContent = '';
        exportStatus.append(errorBox(error.message));
      }
    } finally {
      exportButton.disabled = exportStart === null || exportEnd === null;
    }
  });

  const windowStart = () => windowEnd - DAY_MS;
  const pct = (ms) => `${(((ms - windowStart()) / DAY_MS) * 100).toFixed(4)}%`;

  function shift(ms) {
    following = false;
    windowEnd = Math.min(Date.now(), windowEnd + ms);
    load();
  }

  async function load() {
    const start = windowStart() / 1000;
    const end = windowEnd / 1000;
    rangeLabel.textContent = `${formatDateTime(windowStart())} – ${formatDateTime(windowEnd)}`;
    try {
      const [window, found] = await Promise.all([
        api(`/api/v1/recordings/${cameraId}?start_unix=${start.toFixed(3)}&end_unix=${end.toFixed(3)}`, { signal }),
        api(`/api/v1/events?camera_id=${cameraId}&start_unix=${Math.floor(start)}&end_unix=${Math.ceil(end)}&limit=500`, { signal }),
      ]);
      recordings = window.recordings;
      gaps = window.gaps;
      events = found.events.slice().sort((a, b) => a.executed_at - b.executed_at);
      drawTimeline();
      drawEvents();
    } catch (error) {
      if (!signal.aborted) toast(error.message, 'error');
    }
  }

  function drawTimeline() {
    clear(timeline);
    for (const r of recordings) {
      const from = Math.max(r.start_unix * 1000, windowStart());
      const to = Math.min(r.end_unix * 1000, windowEnd);
      timeline.append(h('div', { class: 'tl-range', style: { left: pct(from), width: `${((to - from) / DAY_MS) * 100}%` } }));
    }
    for (const g of gaps) {
      const from = g.start_unix * 1000;
      const to = g.end_unix * 1000;
      timeline.append(h('div', { class: 'tl-gap', style: { left: pct(from), width: `${((to - from) / DAY_MS) * 100}%` } }));
    }
    for (const e of events) {
      timeline.append(h('div', { class: 'tl-event', style: { left: pct(e.executed_at) }, title: `${e.task} ${e.label ?? ''} ${formatTime(e.executed_at)}` }));
    }
    timeline.append(h('div', { class: 'tl-cursor', id: 'tl-cursor' }), h('div', { class: 'tl-playhead', id: 'tl-playhead', hidden: true }));
    drawSelection();
    clear(axis);
    for (let i = 0; i <= 8; i++) {
      const at = windowStart() + (i * DAY_MS) / 8;
      axis.append(h('span', { style: { left: pct(at) } }, formatTime(at).slice(0, 5)));
    }
    const recordedSeconds = recordings.reduce((sum, r) => sum + Math.min(r.end_unix * 1000, windowEnd) / 1000 - Math.max(r.start_unix * 1000, windowStart()) / 1000, 0);
    summary.textContent = recordings.length === 0
      ? 'No recordings in this window.'
      : `${recordings.length} chunks, ${Math.round(recordedSeconds / 60)} min recorded, ${gaps.length} gaps, ${events.length} events.`;
    timeline.dataset.ranges = String(recordings.length);
    moveCursor(cursorMs);
    updatePlayhead();
  }

  function drawEvents() {
    clear(eventList);
    if (events.length === 0) {
      eventList.append(h('li', { class: 'muted' }, 'No events in this window.'));
      return;
    }
    for (const e of events.slice(-50).reverse()) {
      eventList.append(h('li', {},
        h('button', { type: 'button', class: 'link-button', onclick: () => playAt(e.executed_at) },
          `${formatTime(e.executed_at)} · ${e.task}${e.label ? ` · ${e.label}` : ''}${e.count !== null ? ` · ${e.count}` : ''}`)));
    }
  }

  function moveCursor(ms) {
    cursorMs = Math.min(windowEnd, Math.max(windowStart(), ms));
    const cursor = timeline.querySelector('#tl-cursor');
    if (cursor) cursor.style.left = pct(cursorMs);
    timeline.setAttribute('aria-valuemin', String(Math.floor(windowStart() / 1000)));
    timeline.setAttribute('aria-valuemax', String(Math.floor(windowEnd / 1000)));
    timeline.setAttribute('aria-valuenow', String(Math.floor(cursorMs / 1000)));
    timeline.setAttribute('aria-valuetext', formatDateTime(cursorMs));
  }

  function updatePlayhead() {
    const position = player.position();
    const playhead = timeline.querySelector('#tl-playhead');
    if (!position || !playhead) return;
    playhead.hidden = position.wallMs < windowStart() || position.wallMs > windowEnd;
    playhead.style.left = pct(position.wallMs);
    playing.textContent = `Playing ${formatDateTime(position.wallMs)}`;
    playing.dataset.wallMs = String(Math.round(position.wallMs));
    mediaToken(cameraId).then((token) => {
      download.href = player.chunkUrl(position.segment.chunkId, token);
      download.setAttribute('download', `camera-${cameraId}-${formatDateTime(position.segment.start).replace(/[ :]/g, '-')}.mp4`);
      download.removeAttribute('aria-disabled');
    });
  }

  async function playAt(ms) {
    moveCursor(ms);
    if (main.dataset.mode !== 'recordings') setMode('recordings');
    if (player.seekWithin(ms)) {
      video.play().catch(() => {});
      return;
    }
    playing.textContent = `Loading ${formatDateTime(ms)}…`;
    try {
      const started = await player.playFrom(ms);
      if (started.skippedGap) toast(`No recording at ${formatTime(ms)}; playing from ${formatTime(started.startedAt)}.`);
    } catch (error) {
      playing.textContent = '';
      playing.append(errorBox(error.message));
    }
  }

  timeline.addEventListener('click', (event) => {
    const box = timeline.getBoundingClientRect();
    const ms = windowStart() + ((event.clientX - box.left) / box.width) * DAY_MS;
    playAt(ms);
  });
  timeline.addEventListener('keydown', (event) => {
    const step = event.shiftKey ? 10 * 60_000 : 60_000;
    const moves = { ArrowLeft: -step, ArrowRight: step, PageDown: -3600_000, PageUp: 3600_000 };
    if (event.key in moves) moveCursor(cursorMs + moves[event.key]);
    else if (event.key === 'Home') moveCursor(windowStart());
    else if (event.key === 'End') moveCursor(windowEnd);
    else if (event.key === 'Enter' || event.key === ' ') playAt(cursorMs);
    else return;
    event.preventDefault();
  });
  speed.addEventListener('change', () => {
    video.playbackRate = Number(speed.value);
    video.defaultPlaybackRate = Number(speed.value);
  });
  nextEvent.addEventListener('click', () => {
    const from = player.position()?.wallMs ?? cursorMs;
    const next = events.find((e) => e.executed_at > from + 1000);
    if (next) playAt(next.executed_at - 2000);
    else toast('No later event in this window.');
  });
  download.addEventListener('click', (event) => {
    if (download.getAttribute('aria-disabled') === 'true') {
      event.preventDefault();
      toast('Play something first: the button downloads the chunk being played.');
    }
  });
  player.addEventListener('position', updatePlayhead);
  player.addEventListener('finished', () => { playing.textContent = 'End of the recordings.'; });

  await load();
  const timer = setInterval(() => {
    if (!following) return;
    windowEnd = Date.now();
    load();
  }, FOLLOW_REFRESH_MS);
  signal.addEventListener('abort', () => {
    clearInterval(timer);
    video.pause();
    video.removeAttribute('src');
    video.load();
  });
  if (startAt || !camera.recorder_id) setMode('recordings');
  else setMode('live');
  if (startAt) await playAt(startAt);

}
