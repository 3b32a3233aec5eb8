// Small formatting helpers shared by the views.

export function duration(totalSec) {
  if (totalSec == null || !Number.isFinite(totalSec)) return '—';
  const s = Math.max(0, Math.floor(totalSec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export function offset(ms) {
  return duration(Math.round(ms / 1000));
}

export function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** "+15551234567" → "+1 •••• 4567": the console shows who called without the whole number. */
export function phone(n) {
  if (!n) return '—';
  return n.length > 6 ? `${n.slice(0, 2)} •••• ${n.slice(-4)}` : n;
}

export function percent(x) {
  return x == null ? '—' : `${Math.round(x * 1000) / 10}%`;
}

/** Splits a search snippet ("… **refund** …") into text and highlighted parts. */
export function snippetParts(snippet) {
  return snippet.split(/\*\*(.+?)\*\*/g).map((text, i) => ({ text, hit: i % 2 === 1 }));
}

/** The transcript as readable text (for copy and download). */
export function transcriptText(call) {
  const start = Date.parse(call.startedAt);
  const lines = [`Call ${call.callSid} — ${call.direction}, ${call.mode}, agent ${call.agentName}, ${call.status}`, `Started ${call.startedAt}`];
  if (call.disposition) lines.push(`Disposition: ${call.disposition}`);
  if (call.summary) lines.push(`Summary: ${call.summary}`);
  lines.push('');
  for (const t of call.turns) {
    const at = offset(Date.parse(t.startedAt) - start);
    let line = `[${at}] ${t.speaker}: ${t.text}`;
    if (t.interrupted) line += ` [interrupted${t.data?.planned ? `; planned: ${t.data.planned}` : ''}]`;
    if (t.latencyMs != null) line += ` (${t.latencyMs} ms)`;
    lines.push(line);
  }
  return lines.join('\n') + '\n';
}

/** What an interrupted agent turn meant to say beyond what the caller heard. */
export function cutText(turn) {
  const planned = typeof turn.data?.planned === 'string' ? turn.data.planned : '';
  const heard = turn.text ?? '';
  if (!planned) return '';
  return planned.startsWith(heard) ? planned.slice(heard.length).trim() : planned;
}
