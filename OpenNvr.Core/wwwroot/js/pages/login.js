import { login } from '../api.js';
import { h } from '../ui.js';

export async function render(main, { query, navigate }) {
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error', hidden: true });
  const username = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, maxlength: 256 });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, maxlength: 256 });
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Log in');
  const form = h('form', { class: 'login-form card', novalidate: true },
    h('h1', {}, 'OpenNVR'),
    query.get('expired') ? h('p', { class: 'notice' }, 'Your session has ended; log in again.') : null,
    h('div', { class: 'field' }, h('label', { for: 'username' }, 'User name'), username),
    h('div', { class: 'field' }, h('label', { for: 'password' }, 'Password'), password),
    error,
    submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!username.value || !password.value) {
      error.textContent = 'Enter your user name and password.';
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Logging in…';
    try {
      await login(username.value.trim(), password.value);
      const next = query.get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/cameras', { replace: true });
    } catch (e) {
      error.textContent = e.status === 401 ? 'Wrong user name or password.' : e.message;
      error.hidden = false;
      password.select();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Log in';
    }
  });
  main.append(h('div', { class: 'login-page' }, form));
  username.focus();
}
