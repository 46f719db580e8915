// The page of `rpr up`: the jobs as the server sends them (Server-Sent Events, no polling), every
// text put in with textContent (a run that prints <script> shows the text), changes sent with the
// X-Rpr-Request header the server requires of them.
'use strict';
const $ = (id) => document.getElementById(id);
let jobs = [];
let canChange = false;
let selected = null;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function countdown(iso) {
  if (!iso) return '—';
  const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
  if (s <= 0) return 'now';
  if (s < 60) return `in ${s}s`;
  if (s < 3600) return `in ${Math.floor(s / 60)}m ${s % 60}s`;
  return `in ${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function strip(recent) {
  const box = el('span', undefined, 'strip');
  for (const r of recent) {
    const c = el('span', undefined, `cell cell-${r.outcome}`);
    c.title = `run ${r.run}: ${r.outcome}, ${r.duration_ms} ms, ${r.time}`;
    box.append(c);
  }
  return box;
}

function sparkline(recent) {
  const ds = recent.filter((r) => r.outcome !== 'skipped').map((r) => r.duration_ms);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', '80');
  svg.setAttribute('height', '16');
  if (ds.length > 1) {
    const max = Math.max(...ds) || 1;
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('points', ds.map((d, i) => `${(i / (ds.length - 1)) * 78 + 1},${15 - (d / max) * 14}`).join(' '));
    svg.append(line);
  }
  return svg;
}

async function post(name, action) {
  const res = await fetch(`/api/jobs/${encodeURIComponent(name)}/${action}`, { method: 'POST', headers: { 'X-Rpr-Request': '1' }, credentials: 'same-origin' });
  if (!res.ok) $('link').textContent = `${action} ${name}: ${(await res.json().catch(() => ({}))).error || res.status}`;
}

/** Rows and their controls are kept across updates: a button is not replaced under the pointer. */
const rows = new Map();

function row(job) {
  let tr = rows.get(job.name);
  if (!tr) {
    tr = el('tr');
    tr.dataset.job = job.name;
    tr.addEventListener('click', () => select(job.name));
    rows.set(job.name, tr);
  }
  tr.className = job.name === selected ? 'selected' : '';
  const kept = tr.querySelector('td.controls');
  const key = `${canChange}:${job.paused}`;
  tr.replaceChildren();
  tr.append(el('td', job.name), el('td', job.paused ? 'paused' : job.status, `state-${job.paused ? 'paused' : job.status}`), el('td', job.schedule));
  const next = el('td', countdown(job.next_run), 'next');
  next.dataset.next = job.next_run || '';
  const runs = el('td');
  runs.append(strip(job.recent));
  const spark = el('td');
  spark.append(sparkline(job.recent));
  tr.append(next, runs, spark, el('td', job.success_rate === null ? '—' : `${Math.round(job.success_rate * 100)}% of ${job.runs}`));
  if (kept && kept.dataset.key === key) {
    tr.append(kept);
    return tr;
  }
  const controls = el('td', undefined, 'controls');
  controls.dataset.key = key;
  if (canChange) {
    for (const action of [job.paused ? 'resume' : 'pause', 'trigger']) {
      const b = el('button', action);
      b.dataset.action = action;
      b.addEventListener('click', (e) => {
        e.stopPropagation();
        void post(job.name, action);
      });
      controls.append(b);
    }
  }
  tr.append(controls);
  return tr;
}

function render() {
  const body = $('jobs').tBodies[0];
  const shown = new Set(jobs.map((j) => j.name));
  for (const name of rows.keys()) if (!shown.has(name)) rows.delete(name);
  body.replaceChildren(...jobs.map(row));
  const failing = jobs.filter((j) => j.status === 'failed' || (j.last_run && j.last_run.outcome !== 'ok')).length;
  $('summary').textContent = `${jobs.length} jobs, ${failing} failing`;
  $('login').hidden = canChange;
  if (selected) void showRuns(selected);
}

async function showRuns(name) {
  const res = await fetch(`/api/jobs/${encodeURIComponent(name)}/runs`, { credentials: 'same-origin' });
  if (!res.ok) return;
  const { runs } = await res.json();
  const last = [...runs].reverse().find((r) => r.outcome !== 'skipped');
  $('detail').hidden = false;
  $('detail-title').textContent = last ? `${name}: run ${last.run} (${last.outcome}, exit ${last.exitCode ?? last.signal})` : `${name}: no run yet`;
  $('output').textContent = last ? last.tail || '(no output)' : '';
}

function select(name) {
  selected = name;
  render();
}

async function start() {
  const res = await fetch('/api/jobs', { credentials: 'same-origin' });
  if (res.ok) ({ jobs, can_change: canChange } = await res.json());
  render();
  const events = new EventSource('/api/events');
  events.addEventListener('jobs', (e) => {
    jobs = JSON.parse(e.data);
    render();
  });
  events.onopen = () => ($('link').textContent = 'live');
  events.onerror = () => ($('link').textContent = 'reconnecting…');
  setInterval(() => {
    for (const td of document.querySelectorAll('td.next')) td.textContent = countdown(td.dataset.next);
  }, 1000);
}

void start();
