import { useEffect, useState } from 'preact/hooks';
import { subscribe } from './api.js';
import { duration } from './format.js';
import { html } from './html.js';

/** Calls in progress, pushed by GET /admin/live/events; durations tick in the browser. */
export function LiveView() {
  const [items, setItems] = useState(null);
  const [state, setState] = useState('connecting');
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const stop = subscribe('/admin/live/events', (type, data) => type === 'live' && setItems(data.items), setState);
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => (stop(), clearInterval(tick));
  }, []);
  useEffect(() => {
    document.title = 'Live calls · Switchboard';
  }, []);
  return html`
    <section aria-labelledby="live-h">
      <div class="heading">
        <h1 id="live-h">Live calls</h1>
        <span class=${`status ${state}`} role="status">${state === 'open' ? 'Live — updates by itself' : state === 'retrying' ? 'Reconnecting…' : 'Connecting…'}</span>
      </div>
      <p class="sr-only" aria-live="polite">${items ? `${items.length} call${items.length === 1 ? '' : 's'} in progress` : ''}</p>
      ${items === null
        ? html`<p class="muted">Loading…</p>`
        : items.length === 0
          ? html`<p class="empty" data-testid="no-live">No calls in progress.</p>`
          : html`
            <div class="table-wrap">
              <table class="calls" data-testid="live-table">
                <caption class="sr-only">Calls in progress</caption>
                <thead><tr><th scope="col">Call</th><th scope="col">Mode</th><th scope="col">Agent</th><th scope="col">Direction</th><th scope="col">Duration</th><th scope="col">Last turn</th></tr></thead>
                <tbody>
                  ${items.map((c) => html`
                    <tr key=${c.callSid} data-callsid=${c.callSid}>
                      <td><a href=${`#/calls/${c.callSid}`}><code>${c.callSid.slice(0, 12)}…</code></a></td>
                      <td><span class=${`badge mode-${c.mode}`}>${c.mode}</span></td>
                      <td>${c.agentName}</td>
                      <td>${c.direction}</td>
                      <td class="num">${duration((now - Date.parse(c.startedAt)) / 1000)}</td>
                      <td class="last">${c.lastTurn ? html`<span class="who-${c.lastTurn.role}">${c.lastTurn.role}:</span> ${c.lastTurn.text}` : html`<span class="muted">—</span>`}</td>
                    </tr>`)}
                </tbody>
              </table>
            </div>`}
    </section>`;
}
