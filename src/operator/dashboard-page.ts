/**
 * The dashboard page (GET /): plain HTML and script, no build step. It reads the live feed over
 * WebSocket (/ws, once a second), keeps the last five minutes per session and draws them with
 * uPlot (served from the uplot package at /uplot.js): bitrate, packets per second, fraction lost,
 * cumulative lost, jitter and RTT from the receivers' reports, MOS-LQ when the receiver sends RTCP
 * XR VoIP metrics. Sessions appear and disappear as clients come and go; Kick ends one (DELETE
 * /api/sessions/:id).
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>streamlab — sessions</title>
<link rel="stylesheet" href="/uplot.css">
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.4em; margin: 0 0 .2em; }
  #status { color: #666; margin-bottom: 1em; }
  table { border-collapse: collapse; margin-bottom: 1.5em; }
  th, td { border-bottom: 1px solid #ddd; padding: .3em .7em; text-align: left; font-variant-numeric: tabular-nums; }
  th { background: #f4f4f4; }
  .charts { display: flex; flex-wrap: wrap; gap: 1em; margin: .3em 0 1.5em; }
  .session h2 { font-size: 1.05em; margin: 1em 0 .2em; }
  button { cursor: pointer; }
</style>
</head>
<body>
<h1>streamlab</h1>
<div id="status">connecting…</div>
<table id="sessions"><thead><tr>
  <th>session</th><th>kind</th><th>client</th><th>path</th><th>transport</th><th>state</th><th>age s</th>
  <th>kbit/s</th><th>loss %</th><th>lost</th><th>jitter ms</th><th>RTT ms</th><th>MOS</th><th></th>
</tr></thead><tbody></tbody></table>
<h2 style="font-size:1.1em">Live channels</h2>
<table id="live"><thead><tr><th>channel</th><th>live</th><th>viewers</th><th>publisher</th></tr></thead><tbody></tbody></table>
<div id="charts"></div>
<script src="/uplot.js"></script>
<script>
const KEEP = 300;
const series = new Map(); // session id -> { t: [], kbps: [], pps: [], loss: [], lost: [], jitter: [], rtt: [], mos: [], last, plots }
const fmt = (v, d = 1) => (v === undefined || v === null || Number.isNaN(v) ? '–' : Number(v).toFixed(d));
const worst = (tracks, f) => tracks.length ? Math.max(...tracks.map(f).filter((v) => v !== undefined)) : undefined;
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);

function chart(el, title, label, data) {
  return new uPlot({ title, width: 360, height: 170, series: [{}, { label, stroke: '#1f77b4', width: 1.5 }],
    scales: { x: { time: true } }, axes: [{}, { size: 50 }] }, data, el);
}

function update(tick) {
  document.getElementById('status').textContent = 'updated ' + new Date(tick.t).toLocaleTimeString() + ' · ' + tick.sessions.length + ' sessions';
  const seen = new Set();
  for (const s of tick.sessions) {
    seen.add(s.id);
    let d = series.get(s.id);
    if (!d) {
      d = { t: [], kbps: [], pps: [], loss: [], lost: [], jitter: [], rtt: [], mos: [], last: undefined, plots: [] };
      series.set(s.id, d);
    }
    const now = tick.t / 1000;
    const dt = d.last ? now - d.last.t : 0;
    const kbps = d.last && dt > 0 ? ((s.bytesSent - d.last.bytes) * 8) / 1000 / dt : 0;
    const pps = d.last && dt > 0 ? ((s.packetsReceived ?? s.packetsSent) - d.last.packets) / dt : 0;
    d.last = { t: now, bytes: s.bytesSent, packets: s.packetsReceived ?? s.packetsSent };
    const push = (k, v) => { d[k].push(v === undefined ? null : v); if (d[k].length > KEEP) d[k].shift(); };
    push('t', now); push('kbps', kbps); push('pps', pps);
    push('loss', worst(s.tracks, (x) => x.fractionLost * 100));
    push('lost', s.tracks.length ? s.tracks.reduce((n, x) => n + x.cumulativeLost, 0) : undefined);
    push('jitter', worst(s.tracks, (x) => x.jitterMs));
    push('rtt', mean(s.tracks.map((x) => x.rttMs).filter((v) => v !== undefined)));
    push('mos', mean(s.tracks.map((x) => x.mosLq).filter((v) => v !== undefined)));
    s.view = { kbps, loss: d.loss[d.loss.length - 1], lost: d.lost[d.lost.length - 1], jitter: d.jitter[d.jitter.length - 1], rtt: d.rtt[d.rtt.length - 1], mos: d.mos[d.mos.length - 1] };
  }
  for (const [id, d] of series) {
    if (seen.has(id)) continue;
    for (const p of d.plots) p.destroy();
    document.getElementById('charts-' + id)?.remove();
    series.delete(id);
  }
  const body = document.querySelector('#sessions tbody');
  body.replaceChildren(...tick.sessions.map((s) => {
    const tr = document.createElement('tr');
    tr.dataset.session = s.id;
    const v = s.view;
    // The raw figures and the time of the newest report they come from, for tools and tests.
    tr.dataset.reportAt = String(s.tracks.reduce((t, x) => Math.max(t, x.reportAt), 0));
    tr.dataset.lost = String(v.lost ?? '');
    tr.dataset.jitter = String(v.jitter ?? '');
    for (const [cls, text] of [['id', s.id.slice(0, 8)], ['kind', s.kind], ['client', s.client], ['path', s.path], ['transport', s.transport],
      ['state', s.state], ['age', fmt(s.ageSec, 0)], ['kbps', fmt(v.kbps, 0)], ['loss', fmt(v.loss, 2)], ['lost', fmt(v.lost, 0)],
      ['jitter', fmt(v.jitter, 1)], ['rtt', fmt(v.rtt, 1)], ['mos', fmt(v.mos, 1)]]) {
      const td = document.createElement('td'); td.className = cls; td.textContent = text; tr.append(td);
    }
    const td = document.createElement('td');
    const b = document.createElement('button'); b.textContent = 'Kick'; b.className = 'kick';
    b.onclick = () => fetch('/api/sessions/' + encodeURIComponent(s.id), { method: 'DELETE' });
    td.append(b); tr.append(td);
    return tr;
  }));
  document.querySelector('#live tbody').replaceChildren(...tick.live.map((c) => {
    const tr = document.createElement('tr');
    for (const text of [c.name, c.live ? 'yes' : 'no', String(c.viewers), c.publisher ? 'yes' : 'no']) {
      const td = document.createElement('td'); td.textContent = text; tr.append(td);
    }
    return tr;
  }));
  const charts = document.getElementById('charts');
  for (const s of tick.sessions) {
    const d = series.get(s.id);
    if (d.plots.length === 0) {
      const box = document.createElement('div');
      box.className = 'session'; box.id = 'charts-' + s.id;
      const h = document.createElement('h2'); h.textContent = s.kind + ' ' + s.path + ' · ' + s.client + ' · ' + s.transport + ' · ' + s.id.slice(0, 8);
      const row = document.createElement('div'); row.className = 'charts';
      box.append(h, row); charts.append(box);
      d.plots = [
        chart(row, 'bitrate', 'kbit/s', [d.t, d.kbps]),
        chart(row, 'packets', 'packets/s', [d.t, d.pps]),
        chart(row, 'fraction lost (RR)', '%', [d.t, d.loss]),
        chart(row, 'cumulative lost (RR)', 'packets', [d.t, d.lost]),
        chart(row, 'jitter (RR)', 'ms', [d.t, d.jitter]),
        chart(row, 'round trip (RR)', 'ms', [d.t, d.rtt]),
        chart(row, 'MOS-LQ (RTCP XR)', 'MOS', [d.t, d.mos]),
      ];
    } else {
      const keys = ['kbps', 'pps', 'loss', 'lost', 'jitter', 'rtt', 'mos'];
      d.plots.forEach((p, i) => p.setData([d.t, d[keys[i]]]));
    }
  }
}

function connect() {
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
  ws.onmessage = (e) => update(JSON.parse(e.data));
  ws.onclose = () => { document.getElementById('status').textContent = 'disconnected; retrying…'; setTimeout(connect, 2000); };
}
connect();
</script>
</body>
</html>
`;
