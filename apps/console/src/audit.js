import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { dateTime } from './format.js';
import { html } from './html.js';

/** The audit trail (admin keys): who read or erased which transcript. */
export function AuditView() {
  const [cursors, setCursors] = useState([null]);
  const [page, setPage] = useState(null);
  const [error, setError] = useState('');
  const cursor = cursors.at(-1);
  useEffect(() => {
    document.title = 'Audit · Switchboard';
  }, []);
  useEffect(() => {
    api.get(`/admin/audit?limit=50${cursor ? `&cursor=${cursor}` : ''}`).then(setPage, (err) => setError(err.message));
  }, [cursor]);
  return html`
    <section aria-labelledby="audit-h">
      <h1 id="audit-h">Audit trail</h1>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${page && html`
        <div class="table-wrap">
          <table class="calls">
            <caption class="sr-only">Transcript reads and erasures, newest first</caption>
            <thead><tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">Key</th><th scope="col">Route</th></tr></thead>
            <tbody>${page.items.map((e) => html`<tr><td>${dateTime(e.at)}</td><td>${e.action}</td><td>${e.keyName ?? e.keyId}</td><td><code>${e.route}</code></td></tr>`)}</tbody>
          </table>
        </div>
        <nav class="pager" aria-label="Pages">
          <button type="button" class="secondary" disabled=${cursors.length === 1} onClick=${() => setCursors(cursors.slice(0, -1))}>← Newer</button>
          <button type="button" class="secondary" disabled=${!page.nextCursor} onClick=${() => setCursors([...cursors, page.nextCursor])}>Older →</button>
        </nav>`}
    </section>`;
}
