// Settings › Integrations (admin): the MQTT publisher's status and a test publish; webhooks: add, test delivery,
// delivery log, enable, delete. docs/integrations.md describes what is sent.
import { api, hasRole } from '../api.js';
import { badge, clear, confirmButton, errorBox, formatDateTime, h, labelled, toast } from '../ui.js';

export async function render(main, { signal }) {
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Integrations'),
    h('a', { href: '/settings', 'data-link': true }, 'Back to settings')));
  if (!hasRole('admin')) {
    main.append(h('p', {}, 'Integrations are for administrators.'));
    return;
  }
  const mqttSection = h('section', { class: 'card', 'aria-labelledby': 'mqtt-h', id: 'integrations-mqtt' });
  const hooksSection = h('section', { class: 'card', 'aria-labelledby': 'webhooks-h', id: 'integrations-webhooks' });
  main.append(mqttSection, hooksSection);
  const cameras = (await api('/api/v1/cameras', { signal })).cameras;
  await Promise.all([renderMqtt(mqttSection, signal), renderWebhooks(hooksSection, cameras, signal)]);
}

/** A problem's detail, plus the per-field messages of a validation problem. */
function describe(error) {
  const errors = error.body?.errors;
  if (!errors) return error.message;
  return Object.values(errors).flat().join(' ') || error.message;
}

async function renderMqtt(section, signal) {
  clear(section).append(h('h2', { id: 'mqtt-h' }, 'MQTT'));
  let status;
  try {
    status = await api('/api/v1/integrations/mqtt', { signal });
  } catch (e) {
    section.append(errorBox(describe(e)));
    return;
  }
  if (!status.enabled) {
    section.append(h('p', { id: 'mqtt-off' }, 'MQTT is off. Set Mqtt:Url (an external broker such as Mosquitto) or Mqtt:Embedded=true (Core hosts a broker) and restart Core.'));
    return;
  }
  const row = (label, value) => h('tr', {}, h('th', { scope: 'row' }, label), h('td', {}, value));
  const result = h('div', { id: 'mqtt-test-result', role: 'status', 'aria-live': 'polite' });
  const testButton = h('button', { type: 'button', class: 'button primary', id: 'mqtt-test' }, 'Test publish');
  const refreshButton = h('button', { type: 'button', class: 'button secondary' }, 'Refresh');
  testButton.addEventListener('click', async () => {
    testButton.disabled = true;
    clear(result).append(h('p', { class: 'muted' }, 'Publishing… (up to 5 s)'));
    try {
      const answer = await api('/api/v1/integrations/mqtt/test', { method: 'POST' });
      clear(result).append(h('p', { class: 'success' }, `✓ The broker acknowledged a message on ${answer.topic}.`));
    } catch (e) {
      clear(result).append(errorBox(describe(e)));
    } finally {
      testButton.disabled = false;
    }
  });
  refreshButton.addEventListener('click', () => renderMqtt(section, signal));
  section.append(
    h('table', { class: 'facts', id: 'mqtt-status' }, h('tbody', {},
      row('Broker', h('span', {}, status.mode === 'embedded' ? 'embedded (hosted by Core) ' : 'external ', h('span', { class: 'mono' }, status.broker))),
      row('Connection', status.connected
        ? h('span', {}, badge('connected', 'ok'), ` since ${formatDateTime(Date.parse(status.connected_since))}`)
        : h('span', {}, badge('disconnected', 'bad'), status.last_error ? ` ${status.last_error}` : '')),
      row('Published', String(status.published)),
      row('Dropped (queue full)', String(status.dropped)),
      row('Queued', `${status.queue_depth} of ${status.queue_capacity}`),
      row('Topics', h('span', { class: 'mono' }, `${status.topic_prefix}/…`)),
      row('Home Assistant discovery', status.discovery_prefix ? h('span', { class: 'mono' }, `${status.discovery_prefix}/…`) : 'off'))),
    h('div', { class: 'button-row' }, testButton, refreshButton),
    result);
}

async function renderWebhooks(section, cameras, signal) {
  clear(section).append(h('h2', { id: 'webhooks-h' }, 'Webhooks'));
  let hooks;
  try {
    hooks = (await api('/api/v1/webhooks', { signal })).webhooks;
  } catch (e) {
    section.append(errorBox(describe(e)));
    return;
  }
  const reload = () => renderWebhooks(section, cameras, signal);
  const cameraName = (id) => cameras.find((c) => c.id === id)?.name ?? `#${id}`;
  const log = h('div', { id: 'webhook-deliveries' });
  const rows = hooks.map((hook) => h('tr', { dataset: { webhookId: hook.id } },
    h('td', { class: 'mono' }, hook.url),
    h('td', {}, hook.event_types.length ? hook.event_types.join(', ') : 'all events'),
    h('td', {}, hook.camera_ids.length ? hook.camera_ids.map(cameraName).join(', ') : 'all cameras'),
    h('td', {}, hook.enabled ? badge('enabled', 'ok') : h('span', {}, badge('disabled', 'bad'), ' ', hook.disabled_reason ?? '')),
    h('td', {}, hook.last_delivery_at ? formatDateTime(Date.parse(hook.last_delivery_at)) : '—'),
    h('td', { class: 'actions' },
      h('button', {
        type: 'button', class: 'button', disabled: !hook.enabled, 'aria-label': `Send a test delivery to ${hook.url}`,
        onclick: async () => {
          try {
            await api(`/api/v1/webhooks/${hook.id}/test`, { method: 'POST' });
            toast('Test delivery queued; see its result in the deliveries.');
            await showDeliveries(log, hook, signal, true);
          } catch (e) {
            toast(describe(e), 'error');
          }
        },
      }, 'Test delivery'),
      h('button', { type: 'button', class: 'button secondary', 'aria-label': `Deliveries of ${hook.url}`, onclick: () => showDeliveries(log, hook, signal, false) }, 'Deliveries'),
      hook.enabled ? null : h('button', {
        type: 'button', class: 'button', 'aria-label': `Enable ${hook.url}`,
        onclick: async () => {
          try {
            await api(`/api/v1/webhooks/${hook.id}/enable`, { method: 'POST' });
            toast('Webhook enabled.');
            await reload();
          } catch (e) {
            toast(describe(e), 'error');
          }
        },
      }, 'Enable'),
      confirmButton('Delete', 'Really delete?', async () => {
        try {
          await api(`/api/v1/webhooks/${hook.id}`, { method: 'DELETE' });
          toast('Webhook deleted.');
          await reload();
        } catch (e) {
          toast(describe(e), 'error');
        }
      }, { 'aria-label': `Delete ${hook.url}` }))));

  const url = h('input', { name: 'url', type: 'url', required: true, maxlength: 2048, autocomplete: 'off', class: 'mono', placeholder: 'https://automation.local/hooks/opennvr' });
  const secret = h('input', { name: 'secret', type: 'text', required: true, minlength: 16, maxlength: 256, autocomplete: 'off', class: 'mono' });
  const generate = h('button', { type: 'button', class: 'button secondary' }, 'Generate secret');
  generate.addEventListener('click', () => {
    const bytes = crypto.getRandomValues(new Uint8Array(24));
    secret.value = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  });
  const types = h('input', { name: 'event_types', autocomplete: 'off', placeholder: 'person.entered, person.*' });
  const cameraBoxes = cameras.map((c) => h('label', { class: 'inline-check' }, h('input', { type: 'checkbox', value: String(c.id), name: 'camera_ids' }), ` ${c.name}`));
  const result = h('div', { id: 'webhook-form-result', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { id: 'webhook-form', 'aria-labelledby': 'webhook-form-h' },
    h('h3', { id: 'webhook-form-h' }, 'Add a webhook'),
    h('div', { class: 'form-grid' },
      labelled('URL', url, 'http:// or https://, without user:password@. Matching events are POSTed as JSON.'),
      labelled('Secret', secret, 'Signs every delivery (X-OpenNVR-Signature: sha256=HMAC of the body); keep a copy for your receiver, it is not shown again.'),
      labelled('Event types (optional)', types, 'Comma-separated; empty: every event.')),
    h('fieldset', { class: 'field' }, h('legend', {}, 'Cameras (none checked: every camera)'), cameraBoxes.length ? cameraBoxes : h('span', { class: 'muted' }, 'No cameras yet.')),
    result,
    h('div', { class: 'button-row' }, generate, h('button', { type: 'submit', class: 'button primary' }, 'Add webhook')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(result);
    if (!form.reportValidity()) return;
    const body = {
      url: url.value.trim(),
      secret: secret.value,
      event_types: types.value.split(',').map((t) => t.trim()).filter(Boolean),
      camera_ids: cameraBoxes.map((l) => l.querySelector('input')).filter((i) => i.checked).map((i) => Number(i.value)),
    };
    try {
      await api('/api/v1/webhooks', { method: 'POST', json: body });
      toast('Webhook added.');
      await reload();
    } catch (e) {
      result.append(errorBox(describe(e)));
    }
  });

  section.append(
    h('div', { class: 'table-wrap' }, h('table', { id: 'webhooks-table' },
      h('thead', {}, h('tr', {}, ['URL', 'Events', 'Cameras', 'State', 'Last delivery'].map((t) => h('th', { scope: 'col' }, t)),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No webhooks yet.'))))),
    log,
    form);
}

const STATUS_KIND = { delivered: 'ok', pending: 'warn', failed: 'bad', abandoned: 'muted' };

/** The hook's delivery log; after a test delivery it refreshes until the newest delivery is no longer pending. */
async function showDeliveries(container, hook, signal, follow) {
  for (let round = 0; ; round++) {
    let answer;
    try {
      answer = await api(`/api/v1/webhooks/${hook.id}/deliveries?limit=20`, { signal });
    } catch (e) {
      clear(container).append(errorBox(describe(e)));
      return;
    }
    const rows = answer.deliveries.map((d) => h('tr', { dataset: { deliveryId: d.id, status: d.status } },
      h('td', {}, String(d.id)),
      h('td', {}, d.kind === 'test' ? 'test' : `${d.event_type ?? ''} #${d.event_id ?? ''}`),
      h('td', {}, badge(d.status, STATUS_KIND[d.status] ?? 'muted')),
      h('td', {}, d.attempt_log.map((a) => a.status_code ? `${a.status_code}` : (a.error ?? 'error')).join(' → ') || '—'),
      h('td', {}, formatDateTime(Date.parse(d.created_at))),
      h('td', {}, d.last_error ?? '')));
    clear(container).append(
      h('h3', { id: 'deliveries-h' }, `Deliveries to ${hook.url}`),
      h('div', { class: 'table-wrap' }, h('table', { id: 'deliveries-table', 'aria-labelledby': 'deliveries-h' },
        h('thead', {}, h('tr', {}, ['Id', 'What', 'Status', 'Attempts', 'Queued', 'Last error'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No deliveries yet.'))))));
    if (!follow || answer.deliveries[0]?.status !== 'pending' || round >= 30 || signal.aborted) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
