// The console's shell: routing (History API), navigation, session handling.
import { isLoggedIn, loadUser, logout, user, hasRole } from './api.js';
import { clear, errorBox, h } from './ui.js';

const routes = [
  { pattern: /^\/login$/, page: () => import('./pages/login.js'), title: 'Log in', public: true },
  { pattern: /^\/cameras$/, page: () => import('./pages/cameras.js'), title: 'Cameras' },
  { pattern: /^\/cameras\/(?<id>\d+)$/, page: () => import('./pages/camera.js'), title: 'Camera' },
  { pattern: /^\/events$/, page: () => import('./pages/events.js'), title: 'Events' },
  { pattern: /^\/faces$/, page: () => import('./pages/faces.js'), title: 'Faces' },
  { pattern: /^\/settings$/, page: () => import('./pages/settings.js'), title: 'Settings' },
  { pattern: /^\/account$/, page: () => import('./pages/account.js'), title: 'Account' },
  { pattern: /^\/settings\/integrations$/, page: () => import('./pages/integrations.js'), title: 'Integrations' },
];

const main = document.getElementById('main');
let leave = null;
let generation = 0;

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  return show();
}

async function show() {
  const current = ++generation;
  leave?.abort();
  leave = new AbortController();
  const { pathname, search } = location;
  if (pathname === '/' || pathname === '/index.html') return navigate('/cameras', { replace: true });
  const route = routes.find((r) => r.pattern.test(pathname));
  if (!route) {
    renderShell();
    clear(main).append(h('h1', {}, 'Not found'), h('p', {}, `There is no page at ${pathname}. `, h('a', { href: '/cameras', 'data-link': true }, 'Go to cameras')));
    return;
  }
  if (!route.public && !isLoggedIn()) {
    return navigate(`/login?next=${encodeURIComponent(pathname + search)}`, { replace: true });
  }
  if (!route.public && !user()) {
    try {
      await loadUser();
    } catch {
      return navigate(`/login?next=${encodeURIComponent(pathname + search)}`, { replace: true });
    }
  }
  renderShell();
  document.title = `${route.title} · OpenNVR`;
  const params = route.pattern.exec(pathname).groups ?? {};
  const query = new URLSearchParams(search);
  try {
    const module = await route.page();
    if (current !== generation) return;
    clear(main);
    await module.render(main, { params, query, navigate, signal: leave.signal });
  } catch (error) {
    if (current !== generation) return;
    clear(main).append(h('h1', {}, route.title), errorBox(error.message || String(error)));
  }
  if (current === generation && !main.contains(document.activeElement)) main.focus({ preventScroll: true });
}

function renderShell() {
  const topbar = document.getElementById('topbar');
  const signedIn = isLoggedIn() && user();
  topbar.hidden = !signedIn;
  if (!signedIn) return;
  document.getElementById('user-name').textContent = `${user().username} (${user().role})`;
  for (const item of topbar.querySelectorAll('[data-role]')) {
    item.hidden = item.dataset.role === 'admin' ? !hasRole('admin') : !hasRole('admin', 'operator');
  }
  for (const link of topbar.querySelectorAll('.nav-links a')) {
    const active = location.pathname === link.pathname || location.pathname.startsWith(`${link.pathname}/`);
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

// Same-origin links marked data-link change pages without a reload.
document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-link]');
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (link.origin !== location.origin) return;
  event.preventDefault();
  navigate(link.pathname + link.search);
});

document.getElementById('logout').addEventListener('click', async () => {
  await logout();
  navigate('/login', { replace: true });
});

window.addEventListener('session-expired', () => {
  if (location.pathname !== '/login') navigate(`/login?expired=1&next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
});

window.addEventListener('popstate', show);
show();
