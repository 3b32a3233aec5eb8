import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, onUnauthorized, session, signIn } from './api.js';
import { AuditView } from './audit.js';
import { CallView } from './call.js';
import { HistoryView } from './history.js';
import { html } from './html.js';
import { LiveView } from './live.js';
import { StatsView } from './stats.js';
import './app.css';

const ADMIN = 'switchboard.admin';

function useHashRoute() {
  const read = () => (location.hash.replace(/^#/, '') || '/live').split('?')[0];
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function SignIn({ onSignedIn, notice }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState(notice ?? '');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    if (!key.trim()) return setError('Enter an API key.');
    setBusy(true);
    setError('');
    try {
      const { admin } = await signIn(key.trim());
      onSignedIn(admin);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Sign-in failed.');
    } finally {
      setBusy(false);
    }
  };
  return html`
    <main class="signin" id="main">
      <form onSubmit=${submit} aria-describedby="signin-help">
        <h1>Switchboard console</h1>
        <p id="signin-help">Sign in with an operator API key (read scope at least). It is kept in this tab only and forgotten when the tab closes.</p>
        <label for="api-key">API key</label>
        <input id="api-key" name="api-key" type="password" autocomplete="off" spellcheck="false" value=${key}
          onInput=${(e) => setKey(e.currentTarget.value)} aria-invalid=${error ? 'true' : 'false'} aria-describedby=${error ? 'signin-error' : undefined} autofocus />
        ${error && html`<p class="error" id="signin-error" role="alert">${error}</p>`}
        <button type="submit" disabled=${busy}>${busy ? 'Checking…' : 'Sign in'}</button>
      </form>
    </main>`;
}

const TABS = [
  ['/live', 'Live calls'],
  ['/calls', 'History'],
  ['/stats', 'Stats'],
];

function App() {
  const [signedIn, setSignedIn] = useState(() => Boolean(session.key));
  const [admin, setAdmin] = useState(() => sessionStorage.getItem(ADMIN) === '1');
  const [notice, setNotice] = useState('');
  const route = useHashRoute();

  const signOut = (message = '') => {
    session.clear();
    sessionStorage.removeItem(ADMIN);
    setNotice(message);
    setSignedIn(false);
  };
  useEffect(() => onUnauthorized(() => signOut('Your API key is no longer accepted. Sign in again.')), []);

  if (!signedIn) {
    return html`<${SignIn} notice=${notice} onSignedIn=${(isAdmin) => {
      sessionStorage.setItem(ADMIN, isAdmin ? '1' : '0');
      setAdmin(isAdmin);
      setNotice('');
      setSignedIn(true);
      if (!location.hash) location.hash = '#/live';
    }} />`;
  }

  let view;
  const callMatch = /^\/calls\/(CA[0-9a-fA-F]{32})$/.exec(route);
  if (callMatch) view = html`<${CallView} callSid=${callMatch[1]} admin=${admin} />`;
  else if (route === '/calls') view = html`<${HistoryView} />`;
  else if (route === '/stats') view = html`<${StatsView} />`;
  else if (route === '/audit' && admin) view = html`<${AuditView} />`;
  else view = html`<${LiveView} />`;

  const tabs = admin ? [...TABS, ['/audit', 'Audit']] : TABS;
  const active = (path) => route === path || (path === '/calls' && route.startsWith('/calls/'));
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <span class="brand">Switchboard</span>
      <nav aria-label="Sections">
        ${tabs.map(([path, label]) => html`<a href=${`#${path}`} aria-current=${active(path) ? 'page' : undefined}>${label}</a>`)}
      </nav>
      <span class="who">${admin ? 'admin key' : 'read key'}</span>
      <button type="button" class="link" onClick=${() => signOut('You are signed out.')}>Sign out</button>
    </header>
    <main id="main" tabindex="-1">${view}</main>`;
}

render(html`<${App} />`, document.getElementById('app'));
