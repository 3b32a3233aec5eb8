// The console's only way to the server: the admin API with the operator's key in the
// Authorization header. The key lives in sessionStorage (this tab only, gone when it closes),
// never in a URL or a cookie.

const KEY = 'switchboard.apiKey';

export const session = {
  get key() {
    return sessionStorage.getItem(KEY);
  },
  set(key) {
    sessionStorage.setItem(KEY, key);
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Listeners told when the server says the key is no longer good (401): the app signs out. */
const unauthorizedListeners = new Set();
export const onUnauthorized = (fn) => (unauthorizedListeners.add(fn), () => unauthorizedListeners.delete(fn));

async function request(method, path, { key = session.key, accept = 'application/json', signal } = {}) {
  let res;
  try {
    res = await fetch(path, { method, headers: { authorization: `Bearer ${key}`, accept }, signal, cache: 'no-store' });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'The server cannot be reached. Check your connection and try again.');
  }
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = await res.json();
      const m = body.message ?? body.error?.message;
      if (m) message = Array.isArray(m) ? m.join('; ') : String(m);
    } catch {
      /* not JSON */
    }
    if (res.status === 401 && key === session.key) unauthorizedListeners.forEach((fn) => fn());
    throw new ApiError(res.status, message);
  }
  return res;
}

export const api = {
  get: async (path, opts) => (await request('GET', path, opts)).json(),
  text: async (path, opts) => (await request('GET', path, { ...opts, accept: 'text/plain' })).text(),
  del: async (path, opts) => (await request('DELETE', path, opts)).json(),
};

/**
 * Checks a key before keeping it: read scope is needed (GET /admin/live), admin scope is probed
 * with GET /admin/audit so buttons the key may not use are never shown.
 */
export async function signIn(key) {
  try {
    await api.get('/admin/live', { key });
  } catch (err) {
    if (err.status === 401) throw new ApiError(401, 'That API key is not valid (unknown or revoked). Check it and try again.');
    if (err.status === 403) throw new ApiError(403, 'That API key has no "read" scope, which the console needs.');
    if (err.status === 429) throw new ApiError(429, 'Too many attempts with this key. Wait a minute and try again.');
    throw err;
  }
  let admin = false;
  try {
    await api.get('/admin/audit?limit=1', { key });
    admin = true;
  } catch (err) {
    if (err.status !== 403) throw err;
  }
  session.set(key);
  return { admin };
}

/**
 * Server-sent events over fetch (EventSource cannot send an Authorization header). Calls
 * `onEvent(type, data)` per event, `onState('open'|'retrying')`, reconnects with backoff
 * until `stop()` is called or the key is refused.
 */
export function subscribe(path, onEvent, onState) {
  let controller;
  let stopped = false;
  let delay = 500;
  const run = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await request('GET', path, { accept: 'text/event-stream', signal: controller.signal });
        onState?.('open');
        delay = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let type = 'message';
            const data = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) type = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
            }
            if (data.length) {
              try {
                onEvent(type, JSON.parse(data.join('\n')));
              } catch {
                /* a malformed event is skipped */
              }
            }
          }
        }
      } catch (err) {
        if (stopped || err.name === 'AbortError') return;
        if (err.status === 401 || err.status === 403) return;
      }
      if (stopped) return;
      onState?.('retrying');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  };
  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}
