// Talks to Core: tokens, refresh before expiry, problem details as errors, media tokens for <img>/<video>.
const SESSION_KEY = 'opennvr.session';
const REFRESH_MARGIN_MS = 60_000;

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail || `Request failed (${status})`);
    this.status = status;
    this.body = body;
  }
}

let session = readSession();
let refreshing = null;
let refreshTimer = 0;
let currentUser = null;
const mediaTokens = new Map();

function readSession() {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

function storeTokens(tokens) {
  session = {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    expires_at: Date.now() + tokens.expires_in * 1000,
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  scheduleRefresh();
}

function clearSession() {
  session = null;
  currentUser = null;
  mediaTokens.clear();
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(SESSION_KEY);
}

// Keeps the session alive while the console is open: refresh a minute before the access token expires.
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (!session) return;
  const wait = Math.max(5_000, session.expires_at - Date.now() - REFRESH_MARGIN_MS);
  refreshTimer = setTimeout(() => refresh().catch(() => {}), wait);
}

export function isLoggedIn() {
  return session !== null;
}

export function user() {
  return currentUser;
}

async function problemOf(response) {
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  const detail = body?.detail || body?.title || text || response.statusText;
  return new ApiError(response.status, detail, body);
}

/** Logs in; `otp` is the authenticator code (or a recovery code) of a user with two-factor login. */
export async function login(username, password, otp) {
  const response = await fetch('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(otp ? { username, password, otp } : { username, password }),
  });
  if (!response.ok) throw await problemOf(response);
  storeTokens(await response.json());
  return loadUser();
}

export async function logout() {
  const refreshToken = session?.refresh_token;
  try {
    if (session) await api('/api/v1/auth/logout', { method: 'POST', json: { refresh_token: refreshToken } });
  } catch {
    // The session ends here either way.
  } finally {
    clearSession();
  }
}

async function refresh() {
  if (!session) throw new ApiError(401, 'Not logged in.');
  refreshing ??= (async () => {
    try {
      const response = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: session.refresh_token }),
      });
      if (!response.ok) {
        clearSession();
        window.dispatchEvent(new CustomEvent('session-expired'));
        throw await problemOf(response);
      }
      storeTokens(await response.json());
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export async function loadUser() {
  currentUser = await api('/api/v1/auth/me');
  scheduleRefresh();
  return currentUser;
}

/**
 * fetch with the access token; JSON in (`json`) or a FormData (`form`), JSON out (or text with `text: true`).
 * Refreshes shortly before expiry and once more after a 401; a refused refresh ends the session.
 */
export async function api(path, { method = 'GET', json, form, text = false, signal } = {}) {
  if (!session) {
    window.dispatchEvent(new CustomEvent('session-expired'));
    throw new ApiError(401, 'Not logged in.');
  }
  if (session.expires_at - Date.now() < REFRESH_MARGIN_MS) await refresh();
  const send = () => {
    const headers = { Authorization: `Bearer ${session.access_token}` };
    let body;
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (form) {
      body = form;
    }
    return fetch(path, { method, headers, body, signal });
  };
  let response = await send();
  if (response.status === 401 && session) {
    await refresh();
    response = await send();
  }
  if (!response.ok) throw await problemOf(response);
  if (response.status === 204) return null;
  if (text) return response.text();
  const type = response.headers.get('Content-Type') || '';
  return type.includes('json') ? response.json() : response.blob();
}

/** A token for ?token= on one camera's media routes (snapshots, frames, chunks, playlists), cached until near expiry. */
export async function mediaToken(cameraId) {
  return (await mediaTokenWithExpiry(cameraId)).token;
}

/**
 * The media token with its expiry (ms since the epoch). Media tokens live minutes (Auth:MediaTokenMinutes) and are
 * minted from the access token only, so players that embed one ask for a fresh one before it runs out.
 */
export async function mediaTokenWithExpiry(cameraId) {
  const cached = mediaTokens.get(cameraId);
  if (cached && cached.expires_at - Date.now() > REFRESH_MARGIN_MS) return cached;
  const answer = await api(`/api/v1/recordings/${cameraId}/media-token`, { method: 'POST' });
  const fresh = { token: answer.token, expires_at: Date.now() + answer.expires_in * 1000 };
  mediaTokens.set(cameraId, fresh);
  return fresh;
}

/** Ends the local session without calling Core (after two-factor changes, which end every session). */
export function forgetSession() {
  clearSession();
}

export function hasRole(...roles) {
  return currentUser !== null && roles.includes(currentUser.role);
}
