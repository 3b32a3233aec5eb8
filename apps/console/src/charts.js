import { html } from './html.js';

/**
 * Minimal SVG bar charts (no chart library: a few hundred bytes instead of tens of kB). Every
 * chart carries a title for screen readers and a data table under a <details> as its text form.
 */
export function BarChart({ title, data, format = String, color = 'var(--accent)', height = 160 }) {
  const max = Math.max(1, ...data.map((d) => d.value ?? 0));
  const w = Math.max(300, data.length * 14);
  const bw = w / Math.max(1, data.length);
  return html`
    <figure class="chart">
      <figcaption>${title}</figcaption>
      <svg viewBox=${`0 0 ${w} ${height + 20}`} role="img" aria-label=${title} preserveAspectRatio="none">
        <title>${title}</title>
        <line x1="0" y1=${height} x2=${w} y2=${height} class="axis" />
        ${data.map((d, i) => {
          const v = d.value ?? 0;
          const h = (v / max) * (height - 10);
          return html`<rect x=${i * bw + bw * 0.15} y=${height - h} width=${bw * 0.7} height=${h} fill=${color}><title>${d.label}: ${format(v)}</title></rect>`;
        })}
        ${data.length > 0 && html`<text x="0" y=${height + 16} class="tick">${data[0].label}</text>`}
        ${data.length > 1 && html`<text x=${w} y=${height + 16} class="tick" text-anchor="end">${data.at(-1).label}</text>`}
        <text x="2" y="10" class="tick">${format(max)}</text>
      </svg>
      <${DataTable} title=${title} rows=${data.map((d) => [d.label, format(d.value ?? 0)])} />
    </figure>`;
}

/** Horizontal bars with labels: categories (dispositions, modes). */
export function HBarChart({ title, data, format = String }) {
  const max = Math.max(1, ...data.map((d) => d.value ?? 0));
  return html`
    <figure class="chart">
      <figcaption>${title}</figcaption>
      <div class="hbars" role="img" aria-label=${`${title}: ${data.map((d) => `${d.label} ${format(d.value ?? 0)}`).join(', ')}`}>
        ${data.map((d) => html`
          <div class="hbar">
            <span class="hlabel">${d.label}</span>
            <span class="htrack"><span class=${`hfill ${d.className ?? ''}`} style=${`width:${((d.value ?? 0) / max) * 100}%`}></span></span>
            <span class="hvalue">${format(d.value ?? 0)}</span>
          </div>`)}
      </div>
    </figure>`;
}

export function DataTable({ title, rows }) {
  return html`
    <details>
      <summary>Data</summary>
      <table class="data"><caption class="sr-only">${title}</caption><tbody>${rows.map((r) => html`<tr><th scope="row">${r[0]}</th><td>${r[1]}</td></tr>`)}</tbody></table>
    </details>`;
}
