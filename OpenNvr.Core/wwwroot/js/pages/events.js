import { api, hasRole, mediaToken } from '../api.js';
import { detectionsOf, drawBoxes } from '../boxes.js';
import { describePersonEvent, personDetections } from '../people.js';
import { clear, errorBox, formatDateTime, formatDuration, fromLocalInput, h, labelled, toLocalInput } from '../ui.js';

const PAGE_SIZE = 50;
const EVENT_TYPES = ['person.entered', 'person.left', 'zone.entered', 'zone.left', 'zone.loitering', 'line.crossed', 'occupancy.changed', 'face.recognized', 'watchlist.hit'];
const KNOWN_TASKS = ['person_counting', 'person_detection', 'object_detection', 'face_detection', 'face_recognition', 'watchlist_check'];

export async function render(main, { query, signal }) {
  const { cameras } = await api('/api/v1/cameras', { signal });
  const cameraNames = new Map(cameras.map((c) => [c.id, c.name]));

  const camera = h('select', { name: 'camera_id' }, h('option', { value: '' }, 'All cameras'),
    cameras.map((c) => h('option', { value: c.id, selected: query.get('camera_id') === String(c.id) }, c.name)));
  const task = h('input', { name: 'task', list: 'task-names', value: query.get('task') ?? '', maxlength: 64, autocomplete: 'off' });
  const label = h('input', { name: 'label', value: query.get('label') ?? '', maxlength: 128, autocomplete: 'off' });
  const eventType = h('select', { name: 'event_type' }, h('option', { value: '' }, 'Any'),
    EVENT_TYPES.map((t) => h('option', { value: t, selected: query.get('event_type') === t }, t)));
  const trackId = h('input', { name: 'track_id', type: 'number', min: 1, value: query.get('track_id') ?? '', autocomplete: 'off' });
  const from = h('input', { name: 'from', type: 'datetime-local', value: query.get('start_unix') ? toLocalInput(Number(query.get('start_unix')) * 1000) : '' });
  const to = h('input', { name: 'to', type: 'datetime-local', value: query.get('end_unix') ? toLocalInput(Number(query.get('end_unix')) * 1000) : '' });
  const form = h('form', { class: 'filters card', 'aria-label': 'Event filters' },
    labelled('Camera', camera), labelled('Task', task), labelled('Label', label), labelled('Event type', eventType), labelled('Person', trackId), labelled('From', from), labelled('To', to),
    h('datalist', { id: 'task-names' }, KNOWN_TASKS.map((t) => h('option', { value: t }))),
    h('div', { class: 'button-row' },
      h('button', { type: 'submit', class: 'button primary' }, 'Apply'),
      h('button', { type: 'reset', class: 'button secondary' }, 'Clear')));
  const list = h('ul', { class: 'events', id: 'events-list', 'aria-label': 'Events, newest first' });
  const status = h('p', { class: 'muted', role: 'status', id: 'events-status' });
  const more = h('button', { type: 'button', class: 'button', id: 'more-events', hidden: true }, 'Load older events');
  const showBoxes = h('input', { type: 'checkbox', id: 'show-boxes', checked: localStorage.getItem('opennvr.boxes') !== 'off' });
  const boxesToggle = h('label', { for: 'show-boxes', class: 'boxes-toggle' }, showBoxes, ' Show detection boxes on snapshots');
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Events')), form, boxesToggle, status, list, more);
  // Boxes are drawn by the console over the stored snapshot (the picture itself stays untouched), switchable.
  const redrawAll = () => {
    for (const host of list.querySelectorAll('.snapshot-host')) host.redraw?.();
  };
  showBoxes.addEventListener('change', () => {
    localStorage.setItem('opennvr.boxes', showBoxes.checked ? 'on' : 'off');
    redrawAll();
  });

  let cursor = null;
  let filters = '';

  const search = () => {
    const p = new URLSearchParams();
    if (camera.value) p.set('camera_id', camera.value);
    if (task.value.trim()) p.set('task', task.value.trim());
    if (label.value.trim()) p.set('label', label.value.trim());
    if (eventType.value) p.set('event_type', eventType.value);
    if (trackId.value.trim()) p.set('track_id', trackId.value.trim());
    const fromMs = from.value ? fromLocalInput(from.value) : null;
    const toMs = to.value ? fromLocalInput(to.value) : null;
    if (fromMs !== null) p.set('start_unix', String(Math.floor(fromMs / 1000)));
    if (toMs !== null) p.set('end_unix', String(Math.floor(toMs / 1000)));
    return p;
  };

  async function loadPage(reset) {
    if (reset) {
      cursor = null;
      clear(list);
    }
    status.textContent = 'Loading…';
    try {
      const p = new URLSearchParams(filters);
      p.set('limit', String(PAGE_SIZE));
      if (cursor) p.set('cursor', cursor);
      const page = await api(`/api/v1/events?${p}`, { signal });
      for (const e of page.events) list.append(await eventItem(e));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      const shown = list.children.length;
      status.textContent = shown === 0 ? 'No events match these filters.' : `${shown} event${shown === 1 ? '' : 's'} shown, newest first.`;
    } catch (error) {
      status.textContent = '';
      status.append(errorBox(error.message));
    }
  }

  async function eventItem(e) {
    const cameraName = cameraNames.get(e.camera_id) ?? `Camera ${e.camera_id}`;
    const openUrl = `/cameras/${e.camera_id}?t=${(e.executed_at / 1000 - 2).toFixed(3)}`;
    let snapshot = h('div', { class: 'snapshot none' }, 'no snapshot');
    if (e.snapshot_url) {
      const token = await mediaToken(e.camera_id);
      const img = h('img', {
        class: 'snapshot', loading: 'lazy', width: 160, height: 90,
        src: `${e.snapshot_url}?token=${encodeURIComponent(token)}`,
        alt: `Snapshot of ${cameraName} at ${formatDateTime(e.executed_at)}`,
      });
      const canvas = h('canvas', { class: 'boxes-overlay', 'aria-hidden': 'true' });
      // A person's event shows the person: their box.
      const detections = e.event_type ? personDetections(e) : detectionsOf(e);
      snapshot = h('span', { class: 'snapshot-host' }, img, canvas);
      snapshot.redraw = () => {
        const shown = showBoxes.checked && img.complete && img.naturalWidth > 0 ? detections : [];
        drawBoxes(canvas, img, shown, img.naturalWidth, img.naturalHeight);
        canvas.dataset.boxes = String(shown.length);
      };
      img.addEventListener('load', snapshot.redraw);
    }
    const person = e.track_id !== null && e.track_id !== undefined
      ? h('a', { href: `/events?camera_id=${e.camera_id}&track_id=${e.track_id}`, 'data-link': true, class: 'small-link person-link' }, `All events of person ${e.track_id}`)
      : null;
    return h('li', { class: 'event card', dataset: { eventId: e.id, task: e.task, eventType: e.event_type ?? '' } },
      h('a', { href: openUrl, 'data-link': true, class: 'event-snapshot', 'aria-label': `Open the recording of ${cameraName} at ${formatDateTime(e.executed_at)}` }, snapshot),
      h('div', { class: 'event-body' },
        h('a', { href: openUrl, 'data-link': true, class: 'event-time' }, formatDateTime(e.executed_at)),
        h('div', { class: 'event-what' },
          h('strong', {}, cameraName), ' · ', e.task, e.label ? ` · ${e.label}` : ''),
        h('div', { class: 'event-result' }, describePersonEvent(e) ?? describe(e)),
        person,
        h('div', { class: 'event-latency muted' },
          e.latency_ms !== null ? `inference ${formatMs(e.latency_ms)}` : null,
          e.latency_ms !== null && e.pipeline_latency_ms !== null ? ' · ' : null,
          e.pipeline_latency_ms !== null ? `pipeline ${formatMs(e.pipeline_latency_ms)}` : null),
        e.snapshot_url && hasRole('admin', 'operator')
          ? h('a', { href: `/faces?event_id=${e.id}`, 'data-link': true, class: 'small-link' }, 'Register a face from this snapshot')
          : null));
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const p = search();
    filters = p.toString();
    history.replaceState(null, '', `/events${filters ? `?${filters}` : ''}`);
    loadPage(true);
  });
  form.addEventListener('reset', () => {
    setTimeout(() => {
      filters = '';
      history.replaceState(null, '', '/events');
      loadPage(true);
    });
  });
  more.addEventListener('click', () => loadPage(false));

  filters = search().toString();
  await loadPage(true);
}

const formatMs = (ms) => (ms < 10_000 ? `${Math.round(ms)} ms` : formatDuration(ms / 1000));

/** The count, the identity or the confidence: what the event says. */
function describe(e) {
  const p = e.payload ?? {};
  if (p.recognized === true && (p.name || p.person_id)) {
    return `Identity: ${p.name ?? p.person_id}${p.category ? ` (${p.category})` : ''}${p.similarity ? `, similarity ${Number(p.similarity).toFixed(2)}` : ''}`;
  }
  if (p.is_on_watchlist === true && Array.isArray(p.matches) && p.matches.length > 0) {
    return `Watchlist: ${p.matches.map((m) => m.name ?? m.person_id).join(', ')}`;
  }
  const parts = [];
  if (e.count !== null) parts.push(`Count: ${e.count}`);
  if (e.confidence !== null) parts.push(`confidence ${Number(e.confidence).toFixed(2)}`);
  return parts.join(', ') || 'No details';
}
