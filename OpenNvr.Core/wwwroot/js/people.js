// People analytics in the console: a camera's occupancy and line-crossing chart, the zone and line editor drawn on
// the camera's live image, and how person events read (entered/left with dwell, the box over the snapshot).
import { api, hasRole, mediaToken } from './api.js';
import { clear, confirmButton, errorBox, formatDateTime, formatDuration, formatTime, h, labelled, toast } from './ui.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

// This module's styles travel with it (the shell's stylesheet stays as it is).
if (!document.querySelector('link[data-people-css]')) {
  document.head.append(h('link', { rel: 'stylesheet', href: '/css/people.css', dataset: { peopleCss: '' } }));
}
const MAX_BUCKETS = 120;
const WINDOWS = [
  { label: '15 min', seconds: 15 * 60 },
  { label: '1 h', seconds: 3600 },
  { label: '6 h', seconds: 6 * 3600 },
  { label: '24 h', seconds: 24 * 3600 },
];
export const ZONE_EVENTS = ['zone.entered', 'zone.left', 'zone.loitering'];

/** An SVG element: s('rect', {x: 1, ...}, children). Attributes are set as strings; text goes in as text nodes. */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Bucket length for a window: a multiple of 10 s giving at most MAX_BUCKETS bars. */
export function bucketFor(windowSeconds) {
  return Math.max(10, Math.ceil(windowSeconds / MAX_BUCKETS / 10) * 10);
}

// ---------------------------------------------------------------------------------------------------------------
// Occupancy and line counts: a picture of the selected window.

/** The card with the occupancy chart (average and peak people) and the line in/out chart of a camera. */
export function occupancyCard(cameraId, signal) {
  let windowSeconds = WINDOWS[1].seconds;
  const chart = h('figure', { class: 'people-chart', id: 'occupancy-chart' });
  const lineChart = h('figure', { class: 'people-chart', id: 'line-chart' });
  const status = h('p', { class: 'muted', role: 'status', id: 'occupancy-status' });
  const picker = h('div', { class: 'button-row', role: 'group', 'aria-label': 'Chart window' },
    WINDOWS.map((w) => h('button', {
      type: 'button', class: 'button', 'aria-pressed': String(w.seconds === windowSeconds), dataset: { seconds: w.seconds },
      onclick: (event) => {
        windowSeconds = w.seconds;
        for (const b of picker.children) b.setAttribute('aria-pressed', String(b === event.currentTarget));
        load();
      },
    }, w.label)));
  const card = h('section', { class: 'card people-card', 'aria-labelledby': 'occupancy-h' },
    h('div', { class: 'timeline-head' }, h('h2', { id: 'occupancy-h' }, 'People in view'), picker),
    chart, lineChart, status);

  async function load() {
    const end = Math.floor(Date.now() / 1000);
    const start = end - windowSeconds;
    const bucket = bucketFor(windowSeconds);
    try {
      const [series, lines] = await Promise.all([
        api(`/api/v1/cameras/${cameraId}/occupancy?start_unix=${start}&end_unix=${end}&bucket_s=${bucket}`, { signal }),
        api(`/api/v1/cameras/${cameraId}/lines`, { signal }).catch(() => ({ lines: [] })),
      ]);
      drawOccupancy(chart, series.buckets, start, end, bucket);
      drawLines(lineChart, series.buckets, lines.lines ?? [], start, end, bucket);
      const peak = series.buckets.reduce((m, b) => Math.max(m, b.max), 0);
      status.textContent = series.buckets.length === 0
        ? 'No people counted in this window.'
        : `${series.buckets.length} buckets of ${bucket} s; at most ${peak} ${peak === 1 ? 'person' : 'people'} at once.`;
    } catch (error) {
      if (!signal.aborted) {
        clear(status).append(errorBox(error.message));
      }
    }
  }

  load();
  const timer = setInterval(load, 30_000);
  signal.addEventListener('abort', () => clearInterval(timer));
  return card;
}

const W = 720;
const H = 180;
const PAD = { left: 34, right: 8, top: 8, bottom: 22 };

function axes(svg, start, end, yMax, yLabel) {
  const x = (t) => PAD.left + ((t - start) / (end - start)) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);
  const grid = s('g', { class: 'axis' });
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    grid.append(s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }),
      s('text', { x: PAD.left - 4, y: y(v) + 4, 'text-anchor': 'end' }, Number.isInteger(v) ? v : v.toFixed(1)));
  }
  for (let i = 0; i <= 6; i++) {
    const t = start + ((end - start) * i) / 6;
    grid.append(s('text', { x: x(t), y: H - 6, 'text-anchor': 'middle' }, formatTime(t * 1000).slice(0, 5)));
  }
  grid.append(s('text', { x: 4, y: PAD.top + 8 }, yLabel));
  svg.append(grid);
  return { x, y };
}

function drawOccupancy(figure, buckets, start, end, bucket) {
  const yMax = Math.max(2, Math.ceil(buckets.reduce((m, b) => Math.max(m, b.max), 0) * 1.2));
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'occupancy-title' });
  svg.append(s('title', { id: 'occupancy-title' }, `Average and peak people per ${bucket} s`));
  const { x, y } = axes(svg, start, end, yMax, 'people');
  for (const b of buckets) {
    const left = x(b.start_unix);
    const width = Math.max(1, x(b.start_unix + bucket) - left - 1);
    svg.append(
      s('rect', { class: 'occ-max', x: left, y: y(b.max), width, height: y(0) - y(b.max) }, s('title', {}, `${formatDateTime(b.start_unix * 1000)}: peak ${b.max}`)),
      s('rect', { class: 'occ-avg', x: left, y: y(b.avg), width, height: y(0) - y(b.avg) }, s('title', {}, `${formatDateTime(b.start_unix * 1000)}: average ${b.avg.toFixed(1)}`)));
  }
  clear(figure).append(svg, h('figcaption', { class: 'legend' },
    h('span', { class: 'legend-avg' }, 'average'), h('span', { class: 'legend-max' }, 'peak')));
  figure.dataset.buckets = String(buckets.length);
}

function drawLines(figure, buckets, lines, start, end, bucket) {
  clear(figure);
  figure.hidden = lines.length === 0;
  if (lines.length === 0) return;
  const totals = buckets.map((b) => (b.lines ?? []).reduce((t, l) => ({ in: t.in + l.in, out: t.out + l.out }), { in: 0, out: 0 }));
  const yMax = Math.max(2, ...totals.map((t) => Math.max(t.in, t.out)));
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'lines-title' });
  svg.append(s('title', { id: 'lines-title' }, `Line crossings per ${bucket} s: in above the axis, out below`));
  const half = (H - PAD.top - PAD.bottom) / 2;
  const mid = PAD.top + half;
  const x = (t) => PAD.left + ((t - start) / (end - start)) * (W - PAD.left - PAD.right);
  const scale = (v) => (v / yMax) * half;
  svg.append(s('line', { class: 'axis-mid', x1: PAD.left, x2: W - PAD.right, y1: mid, y2: mid }),
    s('text', { class: 'axis', x: PAD.left - 4, y: PAD.top + 8, 'text-anchor': 'end' }, yMax),
    s('text', { class: 'axis', x: PAD.left - 4, y: H - PAD.bottom, 'text-anchor': 'end' }, yMax),
    s('text', { class: 'axis', x: 4, y: mid - 4 }, 'in'), s('text', { class: 'axis', x: 4, y: mid + 12 }, 'out'));
  buckets.forEach((b, i) => {
    const left = x(b.start_unix);
    const width = Math.max(1, x(b.start_unix + bucket) - left - 1);
    const { in: inward, out } = totals[i];
    if (inward > 0) svg.append(s('rect', { class: 'line-in', x: left, y: mid - scale(inward), width, height: scale(inward) }, s('title', {}, `${formatTime(b.start_unix * 1000)}: ${inward} in`)));
    if (out > 0) svg.append(s('rect', { class: 'line-out', x: left, y: mid, width, height: scale(out) }, s('title', {}, `${formatTime(b.start_unix * 1000)}: ${out} out`)));
  });
  const sum = totals.reduce((t, v) => ({ in: t.in + v.in, out: t.out + v.out }), { in: 0, out: 0 });
  figure.append(svg, h('figcaption', { class: 'legend' },
    h('span', { class: 'legend-in' }, `in ${sum.in}`), h('span', { class: 'legend-out' }, `out ${sum.out}`),
    ` over ${lines.map((l) => l.name).join(', ')}`));
  figure.dataset.in = String(sum.in);
  figure.dataset.out = String(sum.out);
}

// ---------------------------------------------------------------------------------------------------------------
// Zones and lines, drawn on the camera's image.

/** The card that shows a camera's zones and lines over its latest image; admins draw, name and delete them. */
export function zoneEditorCard(camera, signal) {
  const canEdit = hasRole('admin', 'operator'); // operators change the zones of cameras granted to them
  const image = h('img', { class: 'zone-image', alt: `Latest image of ${camera.name}`, hidden: true });
  const overlay = s('svg', { class: 'zone-overlay', viewBox: '0 0 1 1', preserveAspectRatio: 'none', 'aria-hidden': 'true' });
  const stage = h('div', { class: 'zone-stage', id: 'zone-stage' }, image, overlay);
  const list = h('ul', { class: 'zone-list', id: 'zone-list' });
  const status = h('p', { class: 'muted', role: 'status', id: 'zone-status' });
  const form = h('form', { class: 'zone-form', id: 'zone-form', hidden: true });
  let zones = [];
  let lines = [];
  let drawing = null; // { kind: 'zone' | 'line', points: [[x, y]] }

  const drawZone = h('button', { type: 'button', class: 'button', id: 'draw-zone', onclick: () => start('zone') }, 'Draw a zone');
  const drawLine = h('button', { type: 'button', class: 'button', id: 'draw-line', onclick: () => start('line') }, 'Draw a line');
  const finish = h('button', { type: 'button', class: 'button primary', id: 'finish-drawing', hidden: true, onclick: () => done() }, 'Finish');
  const cancel = h('button', { type: 'button', class: 'button secondary', id: 'cancel-drawing', hidden: true, onclick: () => stop() }, 'Cancel');
  const refresh = h('button', { type: 'button', class: 'button secondary', onclick: () => loadImage() }, 'Refresh image');

  const card = h('section', { class: 'card zones-card', 'aria-labelledby': 'zones-h' },
    h('div', { class: 'timeline-head' }, h('h2', { id: 'zones-h' }, 'Zones and lines'),
      h('div', { class: 'button-row' }, canEdit ? [drawZone, drawLine, finish, cancel] : null, refresh)),
    h('p', { class: 'muted' }, canEdit
      ? 'Zones count people whose feet are inside; a line counts people crossing it, "in" from its left to its right as seen walking from its first point to its second.'
      : 'Zones and lines of this camera (administrators and operators change them).'),
    stage, form, status, list);

  async function loadImage() {
    try {
      const token = await mediaToken(camera.id);
      const response = await fetch(`/api/v1/cameras/${camera.id}/frame.jpg?token=${encodeURIComponent(token)}`, { signal, cache: 'no-store' });
      if (!response.ok) {
        status.textContent = 'No live image yet: shapes are drawn on an empty frame.';
        stage.classList.add('no-image');
        return;
      }
      const url = URL.createObjectURL(await response.blob());
      image.onload = () => URL.revokeObjectURL(url);
      image.src = url;
      image.hidden = false;
      stage.classList.remove('no-image');
    } catch (error) {
      if (!signal.aborted) status.textContent = `No image: ${error.message}`;
    }
  }

  async function load() {
    try {
      const [z, l] = await Promise.all([
        api(`/api/v1/cameras/${camera.id}/zones`, { signal }),
        api(`/api/v1/cameras/${camera.id}/lines`, { signal }),
      ]);
      zones = z.zones;
      lines = l.lines;
      render();
    } catch (error) {
      if (!signal.aborted) clear(status).append(errorBox(error.message));
    }
  }

  function render() {
    clear(overlay);
    for (const zone of zones) {
      overlay.append(s('polygon', { class: 'zone-shape', points: zone.points.map((p) => p.join(',')).join(' ') }, s('title', {}, zone.name)));
    }
    for (const line of lines) overlay.append(lineShape(line.points, 'line-shape', line.name));
    if (drawing) {
      const pts = drawing.points;
      if (drawing.kind === 'zone' && pts.length > 1) overlay.append(s('polyline', { class: 'drawing', points: pts.map((p) => p.join(',')).join(' ') }));
      if (drawing.kind === 'line' && pts.length === 2) overlay.append(lineShape(pts, 'drawing'));
      for (const [x, y] of pts) overlay.append(s('circle', { class: 'drawing-point', cx: x, cy: y, r: 0.008 }));
    }
    clear(list);
    for (const zone of zones) {
      list.append(h('li', { dataset: { zoneId: zone.id } },
        h('strong', {}, zone.name), ` · zone of ${zone.points.length} points`,
        zone.loitering_s ? ` · loitering after ${zone.loitering_s} s` : '',
        ` · raises ${zone.event_types.join(', ') || 'nothing'}`,
        canEdit ? [' ', confirmButton('Delete', 'Really delete?', () => remove('zones', zone.id), { class: 'button danger small' })] : null));
    }
    for (const line of lines) {
      list.append(h('li', { dataset: { lineId: line.id } },
        h('strong', {}, line.name), ' · line',
        canEdit ? [' ', confirmButton('Delete', 'Really delete?', () => remove('lines', line.id), { class: 'button danger small' })] : null));
    }
    if (zones.length === 0 && lines.length === 0) list.append(h('li', { class: 'muted' }, 'No zones or lines yet.'));
  }

  /** A directed line with an arrow at its end and a tick on its "in" (right-hand) side. */
  function lineShape([[x1, y1], [x2, y2]], cls, name) {
    const g = s('g', { class: cls }, name ? s('title', {}, name) : null);
    g.append(s('line', { x1, y1, x2, y2 }));
    const length = Math.hypot(x2 - x1, y2 - y1) || 1;
    const [ux, uy] = [(x2 - x1) / length, (y2 - y1) / length];
    const arrow = 0.025;
    g.append(s('polygon', { points: `${x2},${y2} ${x2 - arrow * ux - arrow * 0.5 * uy},${y2 - arrow * uy + arrow * 0.5 * ux} ${x2 - arrow * ux + arrow * 0.5 * uy},${y2 - arrow * uy - arrow * 0.5 * ux}` }));
    // Right-hand side on screen (y down) of the direction (ux, uy) is (-uy, ux).
    const [mx, my] = [(x1 + x2) / 2, (y1 + y2) / 2];
    g.append(s('line', { class: 'in-tick', x1: mx, y1: my, x2: mx - uy * 0.04, y2: my + ux * 0.04 }));
    return g;
  }

  function start(kind) {
    if (image.hidden && camera.recorder_id) loadImage();
    drawing = { kind, points: [] };
    stage.classList.add('drawing-mode');
    finish.hidden = kind !== 'zone';
    cancel.hidden = false;
    form.hidden = true;
    status.textContent = kind === 'zone' ? 'Click the corners of the zone, then Finish.' : 'Click the line\'s first point, then its second.';
    render();
  }

  function stop() {
    drawing = null;
    stage.classList.remove('drawing-mode');
    finish.hidden = true;
    cancel.hidden = true;
    form.hidden = true;
    status.textContent = '';
    render();
  }

  stage.addEventListener('click', (event) => {
    if (!drawing || !form.hidden) return;
    const box = stage.getBoundingClientRect();
    const x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    const y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
    drawing.points.push([Number(x.toFixed(4)), Number(y.toFixed(4))]);
    render();
    if (drawing.kind === 'line' && drawing.points.length === 2) done();
  });

  function done() {
    if (!drawing) return;
    if (drawing.kind === 'zone' && drawing.points.length < 3) {
      status.textContent = 'A zone needs at least three corners.';
      return;
    }
    const name = h('input', { name: 'name', required: true, maxlength: 64, value: drawing.kind === 'zone' ? `Zone ${zones.length + 1}` : `Line ${lines.length + 1}` });
    const loitering = h('input', { name: 'loitering_s', type: 'number', min: 1, max: 86400, step: 1, placeholder: 'none' });
    const types = ZONE_EVENTS.map((t) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'event_types', value: t, checked: t !== 'zone.loitering' }), ` ${t}`));
    clear(form).append(
      labelled('Name', name),
      drawing.kind === 'zone' ? [labelled('Loitering after (s)', loitering), h('fieldset', {}, h('legend', {}, 'Events'), types)] : null,
      h('div', { class: 'button-row' }, h('button', { type: 'submit', class: 'button primary', id: 'save-shape' }, 'Save'),
        h('button', { type: 'button', class: 'button secondary', onclick: () => stop() }, 'Cancel')));
    form.hidden = false;
    finish.hidden = true;
    name.focus();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const isZone = drawing.kind === 'zone';
    const body = isZone
      ? {
        name: String(data.get('name')).trim(),
        points: drawing.points,
        event_types: data.getAll('event_types').map(String),
        loitering_s: data.get('loitering_s') ? Number(data.get('loitering_s')) : null,
      }
      : { name: String(data.get('name')).trim(), points: drawing.points };
    try {
      await api(`/api/v1/cameras/${camera.id}/${isZone ? 'zones' : 'lines'}`, { method: 'POST', json: body, signal });
      toast(`${isZone ? 'Zone' : 'Line'} "${body.name}" saved.`);
      stop();
      await load();
    } catch (error) {
      clear(status).append(errorBox(error.message));
    }
  });

  async function remove(kind, id) {
    try {
      await api(`/api/v1/cameras/${camera.id}/${kind}/${id}`, { method: 'DELETE', signal });
      await load();
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  // Only a camera some Recorder holds has a live image, and only an analysed one publishes frames: the frame is
  // fetched when someone starts drawing, not on every visit (a 404 on each page load is noise and a console error).
  if (!camera.recorder_id) {
    status.textContent = 'Not recording now: shapes are drawn on an empty frame.';
    stage.classList.add('no-image');
  }
  load();
  return card;
}

// ---------------------------------------------------------------------------------------------------------------
// Person events.

/** What a person event says, in words; null for events without an event_type (the frame-level ones). */
export function describePersonEvent(e) {
  const p = e.payload ?? {};
  const who = e.track_id !== null && e.track_id !== undefined ? `Person ${e.track_id}` : 'A person';
  const named = p.name ? ` (${p.name})` : '';
  switch (e.event_type) {
    case 'person.entered': return `${who}${named} entered`;
    case 'person.left': return `${who}${named} left after ${formatDuration(Number(p.dwell_s ?? 0))}`;
    case 'zone.entered': return `${who}${named} entered zone ${p.zone_name ?? p.zone_id}`;
    case 'zone.left': return `${who}${named} left zone ${p.zone_name ?? p.zone_id}${p.dwell_s !== undefined ? ` after ${formatDuration(Number(p.dwell_s))}` : ''}`;
    case 'zone.loitering': return `${who}${named} has stayed ${formatDuration(Number(p.dwell_s ?? 0))} in zone ${p.zone_name ?? p.zone_id}`;
    case 'line.crossed': return `${who}${named} crossed ${p.line_name ?? `line ${p.line_id}`} (${p.direction})`;
    case 'occupancy.changed': return `Occupancy ${p.from} → ${p.to}`;
    case 'face.recognized': return `${who} recognised as ${p.name ?? p.person_id}`;
    case 'watchlist.hit': return `${who} is on the watchlist: ${p.name ?? p.person_id}`;
    default: return null;
  }
}

/** A person event's box(es) (`bbox` is a list of [left, top, width, height]) as boxes.js draws detections. */
export function personDetections(e) {
  const boxes = Array.isArray(e.bbox) && Array.isArray(e.bbox[0]) ? e.bbox : Array.isArray(e.bbox) && e.bbox.length === 4 ? [e.bbox] : [];
  // Face events draw the face's box, labelled with whom it matched; the others the person's box.
  const face = e.event_type === 'face.recognized' || e.event_type === 'watchlist.hit';
  const name = e.payload?.name ?? e.payload?.person_id;
  const label = face && name ? `face: ${name}` : e.track_id !== null && e.track_id !== undefined ? `person ${e.track_id}` : 'person';
  return boxes.map((bbox) => ({ bbox, label, confidence: e.confidence }));
}

/**
 * The event's snapshot with its box(es) drawn over it: `e.bbox` is [left, top, width, height] in the snapshot's
 * pixels (or a list of such boxes). The overlay's viewBox is the image's natural size, so boxes stay in place at
 * any displayed size.
 */
export function snapshotWithBoxes(e, img) {
  const boxes = Array.isArray(e.bbox) && Array.isArray(e.bbox[0]) ? e.bbox : Array.isArray(e.bbox) && e.bbox.length === 4 ? [e.bbox] : [];
  if (boxes.length === 0) return img;
  // 'slice' is SVG's object-fit: cover, which the snapshot thumbnails use: the boxes land where the pixels are.
  const overlay = s('svg', { class: 'box-overlay', preserveAspectRatio: 'xMidYMid slice', 'aria-hidden': 'true' });
  const figure = h('span', { class: 'snapshot-boxes', dataset: { boxes: boxes.length } }, img, overlay);
  const draw = () => {
    overlay.setAttribute('viewBox', `0 0 ${img.naturalWidth} ${img.naturalHeight}`);
    clear(overlay);
    for (const [left, top, width, height] of boxes) overlay.append(s('rect', { x: left, y: top, width, height }));
  };
  if (img.complete && img.naturalWidth) draw();
  else img.addEventListener('load', draw, { once: true });
  return figure;
}
