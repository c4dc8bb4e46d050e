// The signed-in user's own security: two-factor login (enrol with a QR code, recovery codes shown once, disable)
// and API tokens for REST clients (create: shown once; list with last use; revoke).
import { api, forgetSession, hasRole, user } from '../api.js';
import { clear, confirmButton, errorBox, formatDateTime, h, labelled, toast } from '../ui.js';

const ROLES = ['admin', 'operator', 'viewer'];

export async function render(main, { signal, navigate }) {
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Account')));
  const mfaSection = h('section', { class: 'card', 'aria-labelledby': 'mfa-h', id: 'account-mfa' });
  const tokensSection = h('section', { class: 'card', 'aria-labelledby': 'tokens-h', id: 'account-tokens' });
  main.append(mfaSection, tokensSection);
  const me = await api('/api/v1/auth/me', { signal });
  renderMfa(mfaSection, me, navigate);
  await renderTokens(tokensSection, signal);
}

/** The SVG of Core, shown as an image (never inserted as markup). */
function qrImage(svg) {
  const bytes = new TextEncoder().encode(svg);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return h('img', { class: 'qr', src: `data:image/svg+xml;base64,${btoa(binary)}`, alt: 'QR code for your authenticator app', width: 240, height: 240 });
}

function renderMfa(section, me, navigate) {
  clear(section);
  section.append(h('h2', { id: 'mfa-h' }, 'Two-factor login'));
  const result = h('div', { role: 'status', 'aria-live': 'polite' });
  const code = h('input', { name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 32, required: true });

  // Enabling or disabling ends every session of the user (security stamp): log in again with the new setting.
  const relogin = (message) => {
    toast(message);
    forgetSession();
    navigate('/login', { replace: true });
  };

  if (me.mfa_enabled) {
    const form = h('form', { class: 'inline-form' },
      h('p', {}, 'Two-factor login is on. To turn it off, enter a code of your authenticator app or a recovery code.'),
      labelled('Code', code), h('button', { type: 'submit', class: 'button danger' }, 'Turn off'), result);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await api('/api/v1/auth/mfa/disable', { method: 'POST', json: { code: code.value.trim() } });
        relogin('Two-factor login is off; log in again.');
      } catch (e) {
        clear(result).append(errorBox(e.message));
      }
    });
    section.append(form);
    return;
  }

  const start = h('button', { type: 'button', class: 'button primary', id: 'mfa-setup' }, 'Set up two-factor login');
  section.append(h('p', {}, 'Protect your account with the codes of an authenticator app (TOTP).'), start, result);
  start.addEventListener('click', async () => {
    try {
      const setup = await api('/api/v1/auth/mfa/setup', { method: 'POST' });
      const form = h('form', { class: 'inline-form', id: 'mfa-enable' },
        labelled('Code from the app', code), h('button', { type: 'submit', class: 'button primary' }, 'Turn on'));
      clear(result).append(
        h('p', {}, 'Scan this code with your authenticator app, or type the secret.'), qrImage(setup.qr_svg),
        h('p', {}, 'Secret: ', h('code', { class: 'mono', id: 'mfa-secret' }, setup.secret)), form);
      start.hidden = true;
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        try {
          const enabled = await api('/api/v1/auth/mfa/enable', { method: 'POST', json: { code: code.value.trim() } });
          const done = h('button', { type: 'button', class: 'button primary' }, 'I have saved them: log in again');
          done.addEventListener('click', () => relogin('Two-factor login is on; log in with a code.'));
          clear(result).append(
            h('p', {}, 'Two-factor login is on. These recovery codes work once each if you lose your phone; they are shown only now.'),
            h('ul', { class: 'recovery-codes mono', id: 'recovery-codes' }, enabled.recovery_codes.map((c) => h('li', {}, c))), done);
        } catch (e) {
          form.append(errorBox(e.message));
        }
      });
      code.focus();
    } catch (e) {
      clear(result).append(errorBox(e.message));
    }
  });
}

async function renderTokens(section, signal) {
  clear(section);
  const reload = () => renderTokens(section, signal);
  const { tokens } = await api('/api/v1/auth/api-tokens', { signal });
  const rows = tokens.map((t) => h('tr', { dataset: { tokenId: t.id } },
    h('td', {}, t.name), h('td', { class: 'mono' }, `${t.prefix}…`), h('td', {}, t.role),
    h('td', {}, t.camera_ids ? t.camera_ids.join(', ') : 'all'),
    h('td', {}, formatDateTime(Date.parse(t.expires_at))),
    h('td', {}, t.last_used_at ? formatDateTime(Date.parse(t.last_used_at)) : 'never'),
    h('td', { class: 'actions' }, t.revoked_at ? 'revoked' : confirmButton('Revoke', 'Really revoke?', async () => {
      try {
        await api(`/api/v1/auth/api-tokens/${t.id}`, { method: 'DELETE' });
        toast(`Revoked ${t.name}.`);
        await reload();
      } catch (e) {
        toast(e.message, 'error');
      }
    }, { 'aria-label': `Revoke ${t.name}` }))));

  const name = h('input', { name: 'name', required: true, maxlength: 100, autocomplete: 'off' });
  const ownRank = ROLES.length - ROLES.indexOf(user()?.role ?? 'viewer');
  const role = h('select', { name: 'role' },
    ROLES.filter((r) => ROLES.length - ROLES.indexOf(r) <= ownRank).map((r) => h('option', { value: r, selected: r === 'viewer' }, r)));
  const days = h('input', { name: 'expires_in_days', type: 'number', min: 1, max: 3650, value: 90 });
  const cameras = h('input', { name: 'camera_ids', autocomplete: 'off', placeholder: 'all', inputmode: 'numeric' });
  const result = h('div', { role: 'status', 'aria-live': 'polite', id: 'token-result' });
  const form = h('form', { class: 'inline-form', id: 'token-form' },
    h('h3', {}, 'New API token'),
    labelled('Name', name), labelled('Role', role), labelled('Expires in (days)', days),
    labelled('Camera ids', cameras, 'Comma-separated; empty for every camera you may see.'),
    h('button', { type: 'submit', class: 'button primary' }, 'Create'), result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const ids = cameras.value.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    try {
      const created = await api('/api/v1/auth/api-tokens', {
        method: 'POST',
        json: { name: name.value.trim(), role: role.value, expires_in_days: Number(days.value), ...(ids.length ? { camera_ids: ids } : {}) },
      });
      await reload();
      const shown = section.querySelector('#token-result');
      clear(shown).append(
        h('p', {}, 'Copy the token now: it is shown only once. Send it as "Authorization: Bearer <token>".'),
        h('code', { class: 'mono token-once', id: 'token-value' }, created.token));
    } catch (e) {
      clear(result).append(errorBox(e.message));
    }
  });

  section.append(
    h('h2', { id: 'tokens-h' }, 'API tokens'),
    h('p', { class: 'muted' }, hasRole('admin') ? 'Tokens act for you with at most the role and cameras you choose.' : 'Tokens act for you with at most your own rights.'),
    rows.length
      ? h('table', {}, h('thead', {}, h('tr', {}, ['Name', 'Token', 'Role', 'Cameras', 'Expires', 'Last used', ''].map((c) => h('th', { scope: 'col' }, c)))), h('tbody', {}, rows))
      : h('p', { class: 'muted' }, 'No API tokens yet.'),
    form);
}
