import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api.js';
import { cutText, dateTime, duration, offset, phone, transcriptText } from './format.js';
import { html } from './html.js';

const ENDED = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled', 'abandoned']);

function download(name, type, content) {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function Turn({ turn, start }) {
  const at = offset(Date.parse(turn.startedAt) - start);
  const cut = turn.interrupted ? cutText(turn) : '';
  if (turn.speaker === 'tool') {
    return html`<li class="turn tool" data-seq=${turn.seq}>
      <span class="meta"><span class="speaker">tool</span> <time>${at}</time></span>
      <code class="text">${turn.text || '—'}</code>
    </li>`;
  }
  return html`
    <li class=${`turn ${turn.speaker}${turn.interrupted ? ' interrupted' : ''}`} data-seq=${turn.seq} data-interrupted=${turn.interrupted ? 'true' : undefined}>
      <span class="meta">
        <span class="speaker">${turn.speaker}</span> <time title=${turn.startedAt}>${at}</time>
        ${turn.latencyMs != null && html` <span class="latency" title="Time from the caller's words to the answer">answered in ${turn.latencyMs} ms</span>`}
        ${turn.action && !['say'].includes(turn.action) && html` <span class="badge">${turn.action}</span>`}
        ${turn.interrupted && html` <span class="badge warn">interrupted</span>`}
        ${turn.redactions?.length > 0 && html` <span class="badge pii" title="Personal data was replaced before storage">PII removed: ${turn.redactions.join(', ')}</span>`}
      </span>
      <p class="text">${turn.text || html`<span class="muted">(erased)</span>`}</p>
      ${turn.interrupted && html`
        <p class="cut">
          <span class="label">Heard:</span> ${turn.text ? `“${turn.text}”` : 'nothing'}${cut && html`<br /><span class="label">Cut:</span> <s>${cut}</s>`}
        </p>`}
    </li>`;
}

function Erase({ call, onErased }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  if (call.erasedAt) return null;
  if (!ENDED.has(call.status)) return html`<p class="muted">This call is in progress; it can be erased once it has ended.</p>`;
  const erase = async () => {
    setBusy(true);
    setError('');
    try {
      await api.del(`/admin/calls/${call.callSid}`);
      setConfirming(false);
      onErased();
    } catch (err) {
      setError(err instanceof ApiError ? `Could not erase: ${err.message}` : String(err));
    } finally {
      setBusy(false);
    }
  };
  return html`
    <div class="erase">
      ${!confirming && html`<button type="button" class="danger" onClick=${() => setConfirming(true)}>Erase transcript…</button>`}
      ${confirming && html`
        <div class="confirm" role="alertdialog" aria-labelledby="erase-q">
          <p id="erase-q">Erase everything that was said on this call? The call's numbers, times and outcome stay; the words cannot be recovered.</p>
          <button type="button" class="danger" disabled=${busy} onClick=${erase} autofocus>Erase for good</button>
          <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Cancel</button>
        </div>`}
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </div>`;
}

/** One call: summary, the transcript as a conversation, events, copy/download, and erase for admin keys. */
export function CallView({ callSid, admin }) {
  const [call, setCall] = useState(null);
  const [error, setError] = useState('');
  const [copied, setCopied] = useState('');
  const [version, setVersion] = useState(0);
  useEffect(() => {
    document.title = `Call ${callSid.slice(0, 10)}… · Switchboard`;
    setError('');
    api.get(`/admin/calls/${callSid}`).then(setCall, (err) => setError(err.status === 404 ? 'No such call.' : err.message));
  }, [callSid, version]);

  if (error) return html`<p class="error" role="alert">${error}</p><p><a href="#/calls">Back to history</a></p>`;
  if (!call) return html`<p class="muted">Loading…</p>`;
  const start = Date.parse(call.startedAt);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(transcriptText(call));
      setCopied('Transcript copied.');
    } catch {
      setCopied('Copying is not allowed here; use Download instead.');
    }
  };
  const interrupted = call.turns.filter((t) => t.interrupted).length;
  return html`
    <article aria-labelledby="call-h">
      <p><a href="#/calls">← History</a></p>
      <div class="heading">
        <h1 id="call-h">Call <code>${call.callSid}</code></h1>
        ${call.erasedAt && html`<span class="badge erased" data-testid="erased">erased ${dateTime(call.erasedAt)}</span>`}
      </div>
      <dl class="facts">
        <div><dt>Status</dt><dd>${call.status}</dd></div>
        <div><dt>Disposition</dt><dd>${call.disposition ?? '—'}</dd></div>
        <div><dt>Mode</dt><dd>${call.mode}</dd></div>
        <div><dt>Agent</dt><dd>${call.agentName}</dd></div>
        <div><dt>Direction</dt><dd>${call.direction}</dd></div>
        <div><dt>From / to</dt><dd>${phone(call.fromNumber)} → ${phone(call.toNumber)}</dd></div>
        <div><dt>Started</dt><dd>${dateTime(call.startedAt)}</dd></div>
        <div><dt>Duration</dt><dd>${duration(call.durationSec)}</dd></div>
        <div><dt>Turns</dt><dd>${call.turns.length}${interrupted ? ` (${interrupted} interrupted)` : ''}</dd></div>
      </dl>
      ${call.summary && html`<section class="summary" aria-label="Summary"><h2>Summary</h2><p>${call.summary}</p></section>`}
      <div class="toolbar">
        <button type="button" class="secondary" onClick=${copy}>Copy text</button>
        <button type="button" class="secondary" onClick=${() => download(`${call.callSid}.txt`, 'text/plain', transcriptText(call))}>Download text</button>
        <button type="button" class="secondary" onClick=${() => download(`${call.callSid}.json`, 'application/json', JSON.stringify(call, null, 2))}>Download JSON</button>
        <span role="status" class="muted">${copied}</span>
      </div>
      <div class="columns">
        <section aria-labelledby="tr-h" class="transcript">
          <h2 id="tr-h">Transcript</h2>
          ${call.turns.length === 0 ? html`<p class="muted">No turns stored.</p>` : html`<ol class="conversation">${call.turns.map((t) => html`<${Turn} key=${t.seq} turn=${t} start=${start} />`)}</ol>`}
        </section>
        <aside aria-labelledby="ev-h" class="events">
          <h2 id="ev-h">Events</h2>
          ${call.events.length === 0 ? html`<p class="muted">None.</p>` : html`
            <ol>
              ${call.events.map((e) => html`<li class=${`event ev-${e.type}`}><time>${offset(Date.parse(e.at) - start)}</time> <strong>${e.type}</strong>${e.data ? html` <code>${JSON.stringify(e.data).slice(0, 160)}</code>` : ''}</li>`)}
            </ol>`}
          ${admin && html`<h2>Privacy</h2><${Erase} call=${call} onErased=${() => setVersion(version + 1)} />`}
        </aside>
      </div>
    </article>`;
}
