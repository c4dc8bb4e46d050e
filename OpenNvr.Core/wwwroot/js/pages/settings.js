import { api, hasRole, user } from '../api.js';
import { clear, confirmButton, errorBox, h, labelled, stateBadge, toast } from '../ui.js';

const TASKS = ['person_counting', 'person_detection', 'object_detection', 'face_detection', 'face_recognition', 'watchlist_check'];
const ROLES = ['admin', 'operator', 'viewer'];

export async function render(main, { signal }) {
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Settings')));
  if (!hasRole('admin')) {
    main.append(h('p', {}, 'Settings are for administrators.'));
    return;
  }
  const state = { cameras: [] };
  const camerasSection = h('section', { class: 'card', 'aria-labelledby': 'cameras-h', id: 'settings-cameras' });
  const policiesSection = h('section', { class: 'card', 'aria-labelledby': 'policies-h', id: 'settings-policies' });
  const usersSection = h('section', { class: 'card', 'aria-labelledby': 'users-h', id: 'settings-users' });
  main.append(
    h('nav', { class: 'section-links', 'aria-label': 'Settings sections' },
      h('a', { href: '#settings-cameras' }, 'Cameras'), h('a', { href: '#settings-policies' }, 'AI policies'), h('a', { href: '#settings-users' }, 'Users and roles'),
      h('a', { href: '/settings/integrations', 'data-link': true }, 'Integrations (MQTT, webhooks)')),
    camerasSection, policiesSection, usersSection);

  async function reloadCameras() {
    state.cameras = (await api('/api/v1/cameras', { signal })).cameras;
    renderCameras(camerasSection, state, reloadCameras);
    renderPolicies(policiesSection, state);
    await renderUsers(usersSection, state, signal);
  }
  await reloadCameras();
}

function renderCameras(section, state, reload) {
  clear(section);
  const rows = state.cameras.map((c) => h('tr', { dataset: { cameraId: c.id } },
    h('td', {}, c.name), h('td', { class: 'mono' }, c.rtsp_url), h('td', {}, stateBadge(c.recording_state)),
    h('td', {}, c.is_active ? 'yes' : 'no'), h('td', {}, c.recording_enabled ? 'yes' : 'no'),
    h('td', { class: 'actions' },
      h('button', { type: 'button', class: 'button', onclick: () => fill(c), 'aria-label': `Edit ${c.name}` }, 'Edit'),
      confirmButton('Delete', 'Really delete?', async () => {
        try {
          await api(`/api/v1/cameras/${c.id}`, { method: 'DELETE' });
          toast(`Deleted ${c.name}.`);
          await reload();
        } catch (e) {
          toast(e.message, 'error');
        }
      }, { 'aria-label': `Delete ${c.name}` }))));

  const id = h('input', { type: 'hidden', name: 'id' });
  const name = h('input', { name: 'name', required: true, maxlength: 100, autocomplete: 'off' });
  const url = h('input', { name: 'rtsp_url', required: true, maxlength: 2048, autocomplete: 'off', placeholder: 'rtsp://camera.local:554/stream1', class: 'mono' });
  const subUrl = h('input', { name: 'sub_stream_url', maxlength: 2048, autocomplete: 'off', class: 'mono' });
  const username = h('input', { name: 'username', maxlength: 256, autocomplete: 'off' });
  const password = h('input', { name: 'password', type: 'password', maxlength: 256, autocomplete: 'new-password' });
  const active = h('input', { name: 'is_active', type: 'checkbox', checked: true });
  const recording = h('input', { name: 'recording_enabled', type: 'checkbox', checked: true });
  const retention = h('input', { name: 'retention_days', type: 'number', min: 1, max: 3650, value: 30 });
  const result = h('div', { id: 'camera-form-result', role: 'status', 'aria-live': 'polite' });
  const title = h('h3', { id: 'camera-form-h' }, 'Add a camera');
  const testButton = h('button', { type: 'button', class: 'button', id: 'test-url' }, 'Test URL');
  const cancel = h('button', { type: 'button', class: 'button secondary', hidden: true }, 'Cancel edit');
  const form = h('form', { class: 'camera-form', id: 'camera-form', 'aria-labelledby': 'camera-form-h' },
    title, id,
    h('div', { class: 'form-grid' },
      labelled('Name', name), labelled('Stream URL (RTSP)', url, 'Credentials may go in the URL or below; they are stored encrypted and shown masked.'),
      labelled('Sub-stream URL (optional)', subUrl), labelled('User name', username), labelled('Password', password),
      labelled('Retention (days)', retention),
      h('div', { class: 'field checkbox' }, h('label', {}, active, ' Enabled')),
      h('div', { class: 'field checkbox' }, h('label', {}, recording, ' Recording'))),
    result,
    h('div', { class: 'button-row' }, testButton, h('button', { type: 'submit', class: 'button primary' }, 'Save camera'), cancel));

  function fill(c) {
    id.value = c ? String(c.id) : '';
    name.value = c?.name ?? '';
    url.value = c?.rtsp_url ?? '';
    subUrl.value = c?.sub_stream_url ?? '';
    username.value = '';
    password.value = '';
    active.checked = c?.is_active ?? true;
    recording.checked = c?.recording_enabled ?? true;
    retention.value = String(c?.retention_days ?? 30);
    title.textContent = c ? `Edit ${c.name}` : 'Add a camera';
    cancel.hidden = !c;
    clear(result);
    if (c) name.focus();
  }
  cancel.addEventListener('click', () => fill(null));

  testButton.addEventListener('click', async () => {
    clear(result).append(h('p', { class: 'muted' }, 'Testing… (up to 8 s)'));
    testButton.disabled = true;
    try {
      const body = { rtsp_url: url.value.trim(), camera_id: id.value ? Number(id.value) : null };
      if (username.value) body.username = username.value;
      if (password.value) body.password = password.value;
      const probe = await api('/api/v1/cameras/test-url', { method: 'POST', json: body });
      clear(result).append(h('p', { class: probe.ok ? 'success' : 'error', role: probe.ok ? null : 'alert' },
        `${probe.ok ? '✓ Reachable: ' : '✗ Not usable: '}${probe.detail} (${probe.elapsed_ms} ms)`));
    } catch (e) {
      clear(result).append(errorBox(e.message));
    } finally {
      testButton.disabled = false;
    }
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(result);
    if (!form.reportValidity()) return;
    const body = {
      name: name.value.trim(), rtsp_url: url.value.trim(), sub_stream_url: subUrl.value.trim(),
      is_active: active.checked, recording_enabled: recording.checked, retention_days: Number(retention.value),
    };
    if (username.value || password.value) {
      body.username = username.value;
      body.password = password.value;
    }
    try {
      if (id.value) await api(`/api/v1/cameras/${id.value}`, { method: 'PUT', json: body });
      else {
        if (!body.sub_stream_url) delete body.sub_stream_url;
        await api('/api/v1/cameras', { method: 'POST', json: body });
      }
      toast(`Saved ${body.name}.`);
      await reload();
    } catch (e) {
      result.append(errorBox(e.message));
    }
  });

  section.append(
    h('h2', { id: 'cameras-h' }, 'Cameras'),
    h('div', { class: 'table-wrap' }, h('table', { id: 'cameras-table' },
      h('thead', {}, h('tr', {}, ['Name', 'URL', 'State', 'Enabled', 'Recording'].map((t) => h('th', { scope: 'col' }, t)), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No cameras yet.'))))),
    form);
}

function renderPolicies(section, state) {
  clear(section);
  section.append(h('h2', { id: 'policies-h' }, 'AI policies'));
  if (state.cameras.length === 0) {
    section.append(h('p', { class: 'muted' }, 'Add a camera first.'));
    return;
  }
  const camera = h('select', { id: 'policy-camera' }, state.cameras.map((c) => h('option', { value: c.id }, c.name)));
  const rows = h('tbody');
  const result = h('div', { role: 'status', 'aria-live': 'polite', id: 'policies-result' });
  const datalist = h('datalist', { id: 'policy-tasks' }, TASKS.map((t) => h('option', { value: t })));

  const addRow = (p = { task: '', interval_ms: 1000, min_confidence: 0.5, enabled: true, motion_gating: true }) => {
    const n = rows.children.length + 1;
    const row = h('tr', {},
      h('td', {}, h('input', { class: 'p-task', value: p.task, list: 'policy-tasks', required: true, maxlength: 64, 'aria-label': `Task of policy ${n}` })),
      h('td', {}, h('input', { class: 'p-interval', type: 'number', min: 100, max: 3600000, step: 100, value: p.interval_ms, 'aria-label': `Interval (ms) of policy ${n}` })),
      h('td', {}, h('input', { class: 'p-confidence', type: 'number', min: 0, max: 1, step: 0.05, value: p.min_confidence, 'aria-label': `Minimum confidence of policy ${n}` })),
      h('td', {}, h('input', { class: 'p-enabled', type: 'checkbox', checked: p.enabled, 'aria-label': `Policy ${n} enabled` })),
      h('td', {}, h('input', { class: 'p-motion', type: 'checkbox', checked: p.motion_gating, 'aria-label': `Policy ${n} only on motion` })),
      h('td', {}, h('button', { type: 'button', class: 'button secondary', onclick: () => row.remove() }, 'Remove')));
    row.dataset.roi = p.roi ? JSON.stringify(p.roi) : '';
    rows.append(row);
  };

  const load = async () => {
    clear(rows);
    clear(result);
    const answer = await api(`/api/v1/cameras/${camera.value}/policies`);
    answer.ai_policies.forEach(addRow);
  };

  const form = h('form', { id: 'policies-form' },
    labelled('Camera', camera), datalist,
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Task', 'Interval (ms)', 'Min. confidence', 'Enabled', 'Only on motion'].map((t) => h('th', { scope: 'col' }, t)), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      rows)),
    result,
    h('div', { class: 'button-row' },
      h('button', { type: 'button', class: 'button', onclick: () => addRow() }, 'Add policy'),
      h('button', { type: 'submit', class: 'button primary' }, 'Save policies')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(result);
    if (!form.reportValidity()) return;
    const policies = [...rows.children].map((row) => ({
      task: row.querySelector('.p-task').value.trim(),
      interval_ms: Number(row.querySelector('.p-interval').value),
      min_confidence: Number(row.querySelector('.p-confidence').value),
      enabled: row.querySelector('.p-enabled').checked,
      motion_gating: row.querySelector('.p-motion').checked,
      roi: row.dataset.roi ? JSON.parse(row.dataset.roi) : null,
    }));
    try {
      await api(`/api/v1/cameras/${camera.value}/policies`, { method: 'PUT', json: { ai_policies: policies } });
      result.append(h('p', { class: 'success' }, `Saved ${policies.length} polic${policies.length === 1 ? 'y' : 'ies'}.`));
    } catch (e) {
      result.append(errorBox(e.message));
    }
  });
  camera.addEventListener('change', () => load().catch((e) => result.append(errorBox(e.message))));
  section.append(form);
  load().catch((e) => result.append(errorBox(e.message)));
}

async function renderUsers(section, state, signal) {
  clear(section);
  const { users } = await api('/api/v1/users', { signal });
  const cameraName = new Map(state.cameras.map((c) => [c.id, c.name]));
  const me = user();
  const reload = () => renderUsers(section, state, signal);

  const grantsPicker = (selected, prefix) => h('fieldset', { class: 'grants' },
    h('legend', {}, 'Cameras (operators and viewers see only these)'),
    state.cameras.length === 0 ? h('p', { class: 'muted' }, 'No cameras.') : null,
    state.cameras.map((c) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', value: c.id, checked: selected.includes(c.id), name: `${prefix}-grant` }), ` ${c.name}`)));
  const checked = (root) => [...root.querySelectorAll('input[type=checkbox]:checked')].map((i) => Number(i.value));

  const rows = users.map((u) => {
    const role = h('select', { 'aria-label': `Role of ${u.username}` }, ROLES.map((r) => h('option', { value: r, selected: r === u.role }, r)));
    const active = h('input', { type: 'checkbox', checked: u.is_active, 'aria-label': `${u.username} active` });
    const grants = grantsPicker(u.camera_ids, `u${u.id}`);
    const password = h('input', { type: 'password', autocomplete: 'new-password', minlength: 12, maxlength: 256, placeholder: 'new password (optional)', 'aria-label': `New password of ${u.username}` });
    const save = h('button', { type: 'button', class: 'button primary' }, 'Save');
    save.addEventListener('click', async () => {
      const body = { role: role.value, is_active: active.checked, camera_ids: checked(grants) };
      if (password.value) body.password = password.value;
      try {
        await api(`/api/v1/users/${u.id}`, { method: 'PUT', json: body });
        toast(`Saved ${u.username}.`);
        await reload();
      } catch (e) {
        toast(e.message, 'error');
      }
    });
    return h('tr', { dataset: { userId: u.id } },
      h('td', {}, u.username, u.locked_until && Date.parse(u.locked_until) > Date.now() ? h('span', { class: 'badge warn' }, 'locked') : null),
      h('td', {}, role), h('td', {}, active),
      h('td', {}, grants, u.camera_ids.length ? h('small', { class: 'muted' }, u.camera_ids.map((id) => cameraName.get(id) ?? id).join(', ')) : null),
      h('td', {}, password),
      h('td', { class: 'actions' }, save, u.id === me?.id ? null : confirmButton('Delete', 'Really delete?', async () => {
        try {
          await api(`/api/v1/users/${u.id}`, { method: 'DELETE' });
          toast(`Deleted ${u.username}.`);
          await reload();
        } catch (e) {
          toast(e.message, 'error');
        }
      }, { 'aria-label': `Delete ${u.username}` })));
  });

  const username = h('input', { name: 'username', required: true, maxlength: 64, autocomplete: 'off' });
  const password = h('input', { name: 'password', type: 'password', required: true, minlength: 12, maxlength: 256, autocomplete: 'new-password' });
  const role = h('select', { name: 'role' }, ROLES.map((r) => h('option', { value: r, selected: r === 'viewer' }, r)));
  const grants = grantsPicker([], 'new');
  const result = h('div', { role: 'status', 'aria-live': 'polite', id: 'user-form-result' });
  const form = h('form', { id: 'user-form', 'aria-labelledby': 'user-form-h' },
    h('h3', { id: 'user-form-h' }, 'Add a user'),
    h('div', { class: 'form-grid' }, labelled('User name', username), labelled('Password', password, 'At least 12 characters'), labelled('Role', role)),
    grants, result,
    h('button', { type: 'submit', class: 'button primary' }, 'Add user'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(result);
    if (!form.reportValidity()) return;
    try {
      await api('/api/v1/users', { method: 'POST', json: { username: username.value.trim(), password: password.value, role: role.value, camera_ids: checked(grants) } });
      toast(`Added ${username.value.trim()}.`);
      await reload();
    } catch (e) {
      result.append(errorBox(e.message));
    }
  });

  section.append(
    h('h2', { id: 'users-h' }, 'Users and roles'),
    h('p', { class: 'muted' }, 'admin: everything and every camera; operator: granted cameras, AI policies and faces; viewer: granted cameras, read only.'),
    h('div', { class: 'table-wrap' }, h('table', { id: 'users-table' },
      h('thead', {}, h('tr', {}, ['User', 'Role', 'Active', 'Cameras', 'Password'].map((t) => h('th', { scope: 'col' }, t)), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, rows))),
    form);
}
