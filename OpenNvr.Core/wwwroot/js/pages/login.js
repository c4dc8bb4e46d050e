import { login } from '../api.js';
import { h } from '../ui.js';

export async function render(main, { query, navigate }) {
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error', hidden: true });
  const username = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, maxlength: 256 });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, maxlength: 256 });
  // Shown once Core answers mfa_required: the password was right, the authenticator code is missing or wrong.
  const otp = h('input', { id: 'otp', name: 'otp', autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 32 });
  const otpField = h('div', { class: 'field', hidden: true },
    h('label', { for: 'otp' }, 'Two-factor code'), otp,
    h('p', { class: 'hint' }, 'The 6-digit code of your authenticator app, or one of your recovery codes.'));
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Log in');
  const form = h('form', { class: 'login-form card', novalidate: true },
    h('h1', {}, 'OpenNVR'),
    query.get('expired') ? h('p', { class: 'notice' }, 'Your session has ended; log in again.') : null,
    h('div', { class: 'field' }, h('label', { for: 'username' }, 'User name'), username),
    h('div', { class: 'field' }, h('label', { for: 'password' }, 'Password'), password),
    otpField,
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
      await login(username.value.trim(), password.value, otpField.hidden ? undefined : otp.value.trim());
      const next = query.get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/cameras', { replace: true });
    } catch (e) {
      if (e.status === 401 && e.body?.mfa_required) {
        const asked = !otpField.hidden;
        otpField.hidden = false;
        error.textContent = asked ? e.message : 'Enter the code of your authenticator app.';
        error.hidden = false;
        otp.value = '';
        otp.focus();
        return;
      }
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
