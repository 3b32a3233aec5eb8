import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api.js';
import { dateTime, duration, phone, snippetParts } from './format.js';
import { html } from './html.js';

const STATUSES = ['completed', 'in-progress', 'ringing', 'busy', 'failed', 'no-answer', 'canceled', 'abandoned'];
const DISPOSITIONS = ['resolved', 'transferred', 'unresolved', 'abandoned'];
const EMPTY = { q: '', status: '', mode: '', direction: '', disposition: '', since: '', until: '' };

/** Filters kept in the address (#/calls?q=refund&status=completed): a search can be bookmarked or shared. */
function filtersFromHash() {
  const query = location.hash.split('?')[1] ?? '';
  const p = new URLSearchParams(query);
  return Object.fromEntries(Object.keys(EMPTY).map((k) => [k, p.get(k) ?? '']));
}

function filtersToHash(f) {
  const p = new URLSearchParams(Object.entries(f).filter(([, v]) => v));
  const query = p.toString();
  history.replaceState(null, '', `#/calls${query ? `?${query}` : ''}`);
}

/** The filters as the API's query string (dates are whole local days). */
function queryOf(f, cursor) {
  const p = new URLSearchParams();
  for (const k of ['q', 'status', 'mode', 'direction', 'disposition']) if (f[k]) p.set(k, f[k].trim());
  if (f.since) p.set('since', new Date(`${f.since}T00:00:00`).toISOString());
  if (f.until) p.set('until', new Date(new Date(`${f.until}T00:00:00`).getTime() + 86_400_000).toISOString());
  p.set('limit', '25');
  if (cursor) p.set('cursor', cursor);
  return p.toString();
}

function Select({ id, label, value, options, onChange }) {
  return html`
    <div class="field">
      <label for=${id}>${label}</label>
      <select id=${id} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
        <option value="">Any</option>
        ${options.map((o) => html`<option value=${o}>${o}</option>`)}
      </select>
    </div>`;
}

/**
 * Searchable call history. Paging follows the API's keyset cursors (stable while new calls
 * arrive); the cursors of earlier pages are kept so "Previous" returns to the same rows.
 */
export function HistoryView() {
  const [draft, setDraft] = useState(filtersFromHash);
  const [filters, setFilters] = useState(filtersFromHash);
  const [cursors, setCursors] = useState([null]);
  const [page, setPage] = useState(null);
  const [error, setError] = useState('');
  const [loading, setLoading] = useState(true);
  const cursor = cursors.at(-1);

  useEffect(() => {
    document.title = 'History · Switchboard';
  }, []);
  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError('');
    api
      .get(`/admin/calls?${queryOf(filters, cursor)}`, { signal: controller.signal })
      .then((p) => setPage(p))
      .catch((err) => err.name !== 'AbortError' && setError(err instanceof ApiError ? err.message : String(err)))
      .finally(() => !controller.signal.aborted && setLoading(false));
    return () => controller.abort();
  }, [filters, cursor]);

  const set = (k) => (v) => setDraft({ ...draft, [k]: v });
  const apply = (e) => {
    e.preventDefault();
    filtersToHash(draft);
    setFilters({ ...draft });
    setCursors([null]);
  };
  const reset = () => {
    filtersToHash(EMPTY);
    setDraft(EMPTY);
    setFilters(EMPTY);
    setCursors([null]);
  };

  return html`
    <section aria-labelledby="hist-h">
      <h1 id="hist-h">Call history</h1>
      <form class="filters" role="search" onSubmit=${apply}>
        <div class="field grow">
          <label for="f-q">Search what was said</label>
          <input id="f-q" type="search" placeholder='refund, "opening hours", -sales' value=${draft.q} onInput=${(e) => set('q')(e.currentTarget.value)} />
        </div>
        <${Select} id="f-status" label="Status" value=${draft.status} options=${STATUSES} onChange=${set('status')} />
        <${Select} id="f-mode" label="Mode" value=${draft.mode} options=${['gather', 'stream', 'relay']} onChange=${set('mode')} />
        <${Select} id="f-direction" label="Direction" value=${draft.direction} options=${['inbound', 'outbound']} onChange=${set('direction')} />
        <${Select} id="f-disposition" label="Disposition" value=${draft.disposition} options=${DISPOSITIONS} onChange=${set('disposition')} />
        <div class="field"><label for="f-since">From</label><input id="f-since" type="date" value=${draft.since} onInput=${(e) => set('since')(e.currentTarget.value)} /></div>
        <div class="field"><label for="f-until">To</label><input id="f-until" type="date" value=${draft.until} onInput=${(e) => set('until')(e.currentTarget.value)} /></div>
        <div class="actions"><button type="submit">Search</button><button type="button" class="secondary" onClick=${reset}>Reset</button></div>
      </form>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div aria-busy=${loading ? 'true' : 'false'}>
        ${page && page.items.length === 0 && !loading && html`<p class="empty">No calls match.</p>`}
        ${page && page.items.length > 0 && html`
          <div class="table-wrap">
            <table class="calls" data-testid="history-table">
              <caption class="sr-only">Calls, newest first</caption>
              <thead><tr><th scope="col">Started</th><th scope="col">Call</th><th scope="col">From</th><th scope="col">Mode</th><th scope="col">Status</th><th scope="col">Disposition</th><th scope="col">Duration</th></tr></thead>
              <tbody>
                ${page.items.map((c) => html`
                  <tr key=${c.callSid} data-callsid=${c.callSid}>
                    <td>${dateTime(c.startedAt)}</td>
                    <td>
                      <a href=${`#/calls/${c.callSid}`}><code>${c.callSid.slice(0, 12)}…</code></a>
                      ${c.match && html`<div class="snippet">${snippetParts(c.match.snippet).map((p) => (p.hit ? html`<mark>${p.text}</mark>` : p.text))}</div>`}
                    </td>
                    <td>${phone(c.direction === 'outbound' ? c.toNumber : c.fromNumber)}</td>
                    <td><span class=${`badge mode-${c.mode}`}>${c.mode}</span> <span class="muted">${c.direction}</span></td>
                    <td>${c.status}${c.erasedAt ? html` <span class="badge erased">erased</span>` : ''}</td>
                    <td>${c.disposition ?? '—'}</td>
                    <td class="num">${duration(c.durationSec)}</td>
                  </tr>`)}
              </tbody>
            </table>
          </div>`}
        <nav class="pager" aria-label="Pages">
          <button type="button" class="secondary" disabled=${cursors.length === 1 || loading} onClick=${() => setCursors(cursors.slice(0, -1))}>← Newer</button>
          <span class="muted">Page ${cursors.length}</span>
          <button type="button" class="secondary" disabled=${!page?.nextCursor || loading} onClick=${() => setCursors([...cursors, page.nextCursor])}>Older →</button>
        </nav>
      </div>
    </section>`;
}
