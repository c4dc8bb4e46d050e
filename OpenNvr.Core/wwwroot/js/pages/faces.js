import { api, hasRole, mediaToken } from '../api.js';
import { clear, confirmButton, errorBox, h, labelled, toast } from '../ui.js';

const CATEGORIES = ['employee', 'visitor', 'watchlist', 'vip', 'unknown'];

export async function render(main, { query, signal }) {
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Faces')));
  if (!hasRole('admin', 'operator')) {
    main.append(h('p', {}, 'Only administrators and operators manage the face registry.'));
    return;
  }

  const filter = h('select', { id: 'face-category' }, h('option', { value: '' }, 'All categories'), CATEGORIES.map((c) => h('option', { value: c }, c)));
  const table = h('tbody');
  const status = h('p', { class: 'muted', role: 'status', id: 'faces-status' });
  main.append(
    h('section', { class: 'card', 'aria-labelledby': 'faces-list-h' },
      h('h2', { id: 'faces-list-h' }, 'Registered identities'),
      labelled('Category', filter),
      status,
      h('div', { class: 'table-wrap' },
        h('table', { id: 'faces-table' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Person id'), h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Category'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
          table))),
    await registerForm(query, signal, () => loadList()));

  async function loadList() {
    status.textContent = 'Loading…';
    try {
      const answer = await api(`/api/v1/faces${filter.value ? `?category=${encodeURIComponent(filter.value)}` : ''}`, { signal });
      clear(table);
      for (const face of answer.faces) {
        table.append(h('tr', { dataset: { personId: face.person_id } },
          h('td', {}, face.person_id), h('td', {}, face.name), h('td', {}, face.category),
          h('td', {}, confirmButton('Delete', 'Really delete?', async () => {
            try {
              await api(`/api/v1/faces/${encodeURIComponent(face.person_id)}`, { method: 'DELETE' });
              toast(`Deleted ${face.name}.`);
              await loadList();
            } catch (error) {
              toast(error.message, 'error');
            }
          }, { 'aria-label': `Delete ${face.name}` }))));
      }
      status.textContent = `${answer.total_count} identit${answer.total_count === 1 ? 'y' : 'ies'}${filter.value ? ` in ${filter.value}` : ''}.`;
    } catch (error) {
      clear(table);
      status.textContent = '';
      status.append(errorBox(error.message));
    }
  }

  filter.addEventListener('change', loadList);
  await loadList();
}

async function registerForm(query, signal, onRegistered) {
  const eventId = query.get('event_id');
  const personId = h('input', { name: 'person_id', required: true, pattern: '[A-Za-z0-9_\\-]{1,64}', maxlength: 64, autocomplete: 'off' });
  const name = h('input', { name: 'name', required: true, maxlength: 200, autocomplete: 'off' });
  const category = h('select', { name: 'category' }, CATEGORIES.map((c) => h('option', { value: c, selected: c === 'employee' }, c)));
  const photo = h('input', { name: 'photo', type: 'file', accept: 'image/jpeg,image/png' });
  const error = h('div', { id: 'register-error' });
  let source;
  if (eventId) {
    let preview = null;
    try {
      const e = await api(`/api/v1/events/${encodeURIComponent(eventId)}`, { signal });
      if (e.snapshot_url) {
        const token = await mediaToken(e.camera_id);
        preview = h('img', { class: 'snapshot', src: `${e.snapshot_url}?token=${encodeURIComponent(token)}`, alt: `Snapshot of event ${eventId}`, width: 320, height: 180 });
      }
    } catch (e) {
      preview = errorBox(e.message);
    }
    source = h('div', { class: 'field' }, h('p', {}, `From the snapshot of event ${eventId}:`), preview,
      h('a', { href: '/faces', 'data-link': true }, 'Upload a photo instead'));
  } else {
    source = labelled('Photo (JPEG or PNG, one face)', photo);
  }
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Register');
  const form = h('form', { class: 'card register-form', id: 'register-face', 'aria-labelledby': 'register-h' },
    h('h2', { id: 'register-h' }, 'Register a face'),
    labelled('Person id', personId, 'Letters, digits, _ and -'), labelled('Name', name), labelled('Category', category),
    source, error, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(error);
    if (!form.reportValidity()) return;
    submit.disabled = true;
    try {
      if (eventId) {
        await api('/api/v1/faces/register', { method: 'POST', json: { person_id: personId.value, name: name.value, category: category.value, event_id: Number(eventId) } });
      } else {
        if (!photo.files?.length) throw new Error('Choose a photo.');
        const data = new FormData();
        data.set('person_id', personId.value);
        data.set('name', name.value);
        data.set('category', category.value);
        data.set('photo', photo.files[0]);
        await api('/api/v1/faces/register', { method: 'POST', form: data });
      }
      toast(`Registered ${name.value}.`);
      form.reset();
      await onRegistered();
    } catch (e) {
      error.append(errorBox(e.message));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
