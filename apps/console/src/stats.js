import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { BarChart, HBarChart } from './charts.js';
import { duration, percent } from './format.js';
import { html } from './html.js';

const RANGES = [7, 30, 90];

/** Transfer rate of every day of the range (days without calls count as 0, like the calls chart). */
function transferRates({ stats, breakdown }) {
  const byDay = new Map(breakdown.transfersPerDay.map((d) => [d.day, d]));
  return stats.perDay.map(({ day }) => {
    const d = byDay.get(day);
    return { label: day, value: d?.calls ? d.transferred / d.calls : 0 };
  });
}

/** Calls per day, dispositions, transfer rate and agent latency percentiles per mode. */
export function StatsView() {
  const [days, setDays] = useState(30);
  const [data, setData] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    document.title = 'Stats · Switchboard';
  }, []);
  useEffect(() => {
    const until = new Date();
    const since = new Date(until.getTime() - days * 86_400_000);
    const q = `since=${since.toISOString()}&until=${until.toISOString()}`;
    setError('');
    Promise.all([api.get(`/admin/stats?${q}`), api.get(`/admin/stats/breakdown?${q}`)])
      .then(([stats, breakdown]) => setData({ stats, breakdown }))
      .catch((err) => setError(err.message));
  }, [days]);
  const ms = (v) => (v == null ? '—' : `${Math.round(v)} ms`);
  return html`
    <section aria-labelledby="stats-h">
      <div class="heading">
        <h1 id="stats-h">Stats</h1>
        <div class="field inline">
          <label for="range">Range</label>
          <select id="range" value=${days} onChange=${(e) => setDays(Number(e.currentTarget.value))}>
            ${RANGES.map((d) => html`<option value=${d}>Last ${d} days</option>`)}
          </select>
        </div>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${!data && !error && html`<p class="muted">Loading…</p>`}
      ${data && html`
        <dl class="kpis">
          <div><dt>Calls</dt><dd>${data.stats.totalCalls}</dd></div>
          <div><dt>Average duration</dt><dd>${duration(data.stats.averageDurationSec)}</dd></div>
          <div><dt>Transfer rate</dt><dd>${percent(data.stats.transferRate)}</dd></div>
          <div><dt>Median answer latency</dt><dd>${ms(data.stats.medianAgentLatencyMs)}</dd></div>
        </dl>
        <div class="charts">
          <${BarChart} title="Calls per day" data=${data.stats.perDay.map((d) => ({ label: d.day, value: d.calls }))} />
          <${HBarChart} title="Dispositions" data=${data.breakdown.dispositions.map((d) => ({ label: d.disposition, value: d.calls, className: `disp-${d.disposition}` }))} />
          <${BarChart} title="Transfer rate per day" color="var(--warn)" format=${percent}
            data=${transferRates(data)} />
          <figure class="chart">
            <figcaption>Answer latency per mode (agent turns)</figcaption>
            ${data.breakdown.latencyByMode.length === 0 ? html`<p class="muted">No timed turns in this range.</p>` : html`
              ${data.breakdown.latencyByMode.map((m) => html`
                <${HBarChart} title=${`${m.mode} (${m.turns} turns)`} format=${ms}
                  data=${[{ label: 'p50', value: m.p50 }, { label: 'p90', value: m.p90 }, { label: 'p99', value: m.p99 }]} />`)}`}
          </figure>
        </div>`}
    </section>`;
}
