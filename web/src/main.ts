// The explorer: wires the URL state, the API and the panels to the WebGL map.
import * as api from './api';
import { Scatter, type Highlight } from './scatter';
import { read, write, type State } from './state';
import { colorBy } from './colors';
import { Timeline } from './timeline';
import { download, toCsv, toJson } from './export';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const state: State = read();
const scatter = new Scatter($<HTMLCanvasElement>('canvas'), $('labels'));
const timeline = new Timeline($('timeline'), $<HTMLInputElement>('tl-slider'), $('tl-play'), $('tl-step'),
  $('tl-loss') as unknown as SVGSVGElement, (frame, xyz, settled) => showFrame(frame, xyz, settled));

let spaces: api.Space[] = [];
let points: api.Point[] = [];
let metadata: string[] = [];
let loading: AbortController | null = null;
let neighbors: api.Neighbor[] = [];
let analogy: api.Analogy | null = null;
let loadToken = 0;
/** When the last view's points were first drawn (read by the web bench). */
let paint: { points: number; sincePageStartMs: number; fetchMs: number; renderMs: number } | null = null;

const selectedColor: [number, number, number] = [0.84, 0.15, 0.16];
const neighborColor: [number, number, number] = [1.0, 0.5, 0.05];
const analogyColor: [number, number, number] = [0.17, 0.63, 0.17];

function status(text: string, error = false) {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', error);
}

function commit() {
  write(state);
}

/** Which points a projection maps: the isolated word and its k neighbours (at least 2: the server's bound), listed words, or the first N keys. */
function pointChoice() {
  return state.view === 'isolate' && state.sel ? { around: state.sel, k: Math.max(2, state.k) }
    : state.view === 'words' && state.words ? { words: state.words } : { top: state.method === 'pca' ? state.top : Math.min(state.top, 20000) };
}

/** The map as SVG, drawn by the library's ScatterPlot on the server from the same projection parameters. */
function exportSvg() {
  if (state.view === 'axes' || state.view === 'timeline') return status('SVG export draws PCA, t-SNE and UMAP maps; export this view as CSV or JSON', true);
  const link = document.createElement('a');
  link.href = api.url('/api/export', { space: state.space, method: state.method, ...pointChoice(), color: metadata.includes(state.color) ? state.color : undefined });
  link.download = `${state.space}-${state.method}.svg`;
  link.click();
}

/** Loads the points of the current view from the API and puts them on the map. */
async function loadView() {
  const token = ++loadToken;
  loading?.abort();
  const abort = loading = new AbortController();
  const started = performance.now();
  status('loading…');
  try {
    if (state.view === 'timeline' && timeline.available) {
      timeline.show(state.step);
      status('');
      return;
    }
    const tsne = state.method === 'tsne';
    // UMAP maps to 2-D only.
    const dims = state.dims === 3 && state.method !== 'umap' ? 3 : 2;
    const common = { space: state.space, method: state.method, dims: dims === 3 ? 3 : undefined };
    // The isolated word and its k neighbours (at least 2: the server's bound), or the view's own choice of points.
    const choice = pointChoice();
    const result = state.view === 'axes'
      ? await api.get<api.Projection>('/api/axes', { space: state.space, x: state.x, y: state.y, top: state.top }, abort.signal)
      : tsne
        ? await api.streamProjection({ ...common, ...choice }, (list, iteration, total) => {
          if (token !== loadToken) return;
          setPoints(list, dims, metadata);
          status(`t-SNE iteration ${iteration} of ${total}`);
        }, abort.signal)
        : await api.get<api.Projection>('/api/projection', { ...common, ...choice }, abort.signal);
    if (token !== loadToken) return;
    const fetched = performance.now();
    // Painted: the frame after the one that drew the points (the drawn frame has then been presented).
    scatter.onFrame = () => {
      scatter.onFrame = () => {};
      requestAnimationFrame(() => {
        const painted = performance.now();
        paint = { points: points.length, sincePageStartMs: painted, fetchMs: fetched - started, renderMs: painted - fetched };
        status(`${points.length.toLocaleString()} points · ${Math.round(painted - started)} ms`);
      });
    };
    setPoints(result.points, state.view === 'axes' ? 2 : dims, result.metadata ?? []);
  } catch (e) {
    if (token === loadToken && (e as Error).name !== 'AbortError') status(`map: ${(e as Error).message}`, true);
  }
}

function setPoints(list: api.Point[], dims: 2 | 3, columns: string[]) {
  points = list;
  metadata = columns;
  const xyz = new Float32Array(3 * list.length);
  list.forEach((p, i) => xyz.set([p.x, p.y, dims === 3 ? p.z ?? 0 : 0], 3 * i));
  scatter.setPoints(list.map(p => p.key), xyz, dims);
  fillColumns();
  applyColor();
  highlight();
}

function showFrame(frame: api.Frame, xyz: Float32Array, settled: boolean) {
  if (scatter.count !== frame.points.length || points[0]?.key !== frame.points[0]?.key) {
    setPoints(frame.points, 2, []);
  } else {
    scatter.move(xyz);
  }
  if (!settled) return;
  state.step = frame.step;
  state.view = 'timeline';
  commit();
  highlight();
}

/** The colour choices: the metadata columns of the view, and whether a point is one of the view's chosen words. */
function columns(): string[] {
  return points.some(p => p.marked) ? [...metadata, 'marked'] : metadata;
}

function value(p: api.Point, column: string) {
  if (column === 'marked') return p.marked ? 'chosen' : 'other';
  return p.meta?.[metadata.indexOf(column)] ?? null;
}

function fillColumns() {
  const select = $<HTMLSelectElement>('color');
  const wanted = ['', ...columns()];
  if ([...select.options].map(o => o.value).join('\n') === wanted.join('\n')) return;
  select.replaceChildren(...wanted.map(name => new Option(name || 'none', name)));
  select.value = wanted.includes(state.color) ? state.color : '';
}

function applyColor() {
  const legend = $('legend');
  const column = $<HTMLSelectElement>('color').value;
  if (!column) {
    scatter.setColors(null);
    legend.replaceChildren();
    return;
  }
  const coloring = colorBy(points.map(p => value(p, column)));
  scatter.setColors(coloring.rgb);
  legend.replaceChildren(...coloring.legend.map(({ text, color }) => {
    const item = document.createElement('span');
    const swatch = document.createElement('i');
    swatch.style.background = color;
    item.append(swatch, document.createTextNode(text));
    return item;
  }));
}

/** Highlights the selection, its neighbours and the analogy's words; draws the analogy's arrows. */
function highlight() {
  const list: Highlight[] = [];
  const add = (key: string, color: [number, number, number], size = 9) => {
    const index = scatter.indexOf(key);
    if (index >= 0 && !list.some(h => h.index === index)) list.push({ index, color, size });
  };
  if (state.sel) add(state.sel, selectedColor, 13);
  for (const n of neighbors) add(n.key, neighborColor);
  const arrows: [number, number][] = [];
  if (analogy?.answer) {
    for (const key of [analogy.a, analogy.b, analogy.c, analogy.answer]) add(key, analogyColor);
    const [a, b, c, d] = [analogy.a, analogy.b, analogy.c, analogy.answer].map(k => scatter.indexOf(k));
    if (a >= 0 && b >= 0) arrows.push([a, b]);
    if (c >= 0 && d >= 0) arrows.push([c, d]);
  }
  scatter.setHighlights(list);
  scatter.setArrows(arrows);
}

/** Selects a word: lists its neighbours and highlights them. */
async function select(word: string) {
  state.sel = word;
  commit();
  $('neighbors-of').textContent = word ? `of ${word}` : '';
  const list = $('neighbors');
  if (!word) {
    neighbors = [];
    list.replaceChildren();
    highlight();
    return;
  }
  try {
    neighbors = await api.neighbors(state.space, word, state.k);
    list.replaceChildren(...neighbors.map(n => {
      const item = document.createElement('li');
      const key = document.createElement('button');
      key.type = 'button';
      key.className = 'key';
      key.textContent = n.key;
      key.addEventListener('click', () => search(n.key));
      const sim = document.createElement('span');
      sim.className = 'similarity';
      sim.textContent = n.similarity.toFixed(4);
      item.append(key, sim);
      return item;
    }));
    status(`${word}: ${neighbors.length} neighbours`);
  } catch (e) {
    neighbors = [];
    list.replaceChildren();
    explain(word, e as Error);
  }
  highlight();
  if (state.view === 'isolate') await loadView();
}

/** Says why a word failed; for an unknown word, offers close spellings. */
function explain(word: string, error: Error) {
  const close = error instanceof api.ApiError ? error.suggestions : [];
  status(close.length ? `“${word}” is not in ${state.space}; close: ${close.join(', ')}` : error.message, true);
}

async function search(word: string) {
  state.q = word;
  $<HTMLInputElement>('search').value = word;
  await select(word);
}

// Autocomplete: the space's keys that start with what was typed.
let suggest: AbortController | null = null;
async function complete(prefix: string) {
  suggest?.abort();
  if (!prefix) return;
  suggest = new AbortController();
  try {
    const found = await api.keys(state.space, prefix, 20, suggest.signal);
    $('suggestions').replaceChildren(...found.map(k => new Option(k, k)));
  } catch { /* aborted or failed: keep the old suggestions */ }
}

async function solveAnalogy() {
  const [a, b, c] = ['an-a', 'an-b', 'an-c'].map(id => $<HTMLInputElement>(id).value.trim());
  Object.assign(state, { a, b, c, am: $<HTMLSelectElement>('an-method').value });
  commit();
  const answer = $('an-answer'), list = $('an-candidates');
  if (!a || !b || !c) return;
  try {
    analogy = await api.analogy(state.space, a, b, c, state.am);
    answer.textContent = analogy.answer ?? '—';
    list.replaceChildren(...analogy.candidates.map(cand => {
      const item = document.createElement('li');
      item.textContent = `${cand.key} ${cand.score.toFixed(4)}`;
      return item;
    }));
    const missing = [a, b, c, analogy.answer ?? ''].filter(k => scatter.indexOf(k) < 0);
    if (missing.length > 0) {
      // Not all four words are on the map: map them with the candidates so both arrows can be drawn.
      state.view = 'words';
      state.words = [...new Set([a, b, c, ...analogy.candidates.map(x => x.key)])].join(',');
      commit();
      await loadView();
    }
    highlight();
  } catch (e) {
    analogy = null;
    answer.textContent = '?';
    list.replaceChildren();
    status(`analogy: ${(e as Error).message}`, true);
    highlight();
  }
}

function hookUp() {
  const searchBox = $<HTMLInputElement>('search');
  searchBox.addEventListener('input', () => complete(searchBox.value));
  $('search-form').addEventListener('submit', e => {
    e.preventDefault();
    search(searchBox.value.trim());
  });
  $<HTMLSelectElement>('space').addEventListener('change', e => {
    state.space = (e.target as HTMLSelectElement).value;
    Object.assign(state, { view: 'map', sel: '', q: '', step: -1 });
    openSpace();
  });
  $<HTMLSelectElement>('method').addEventListener('change', e => {
    state.method = (e.target as HTMLSelectElement).value;
    if (state.view === 'timeline' || state.view === 'axes') state.view = 'map';
    commit();
    loadView();
  });
  $<HTMLInputElement>('top').addEventListener('change', e => {
    state.top = Math.min(100000, Math.max(3, Number((e.target as HTMLInputElement).value) || 5000));
    state.view = 'map';
    commit();
    loadView();
  });
  $<HTMLInputElement>('k').addEventListener('change', e => {
    state.k = Math.min(1000, Math.max(1, Number((e.target as HTMLInputElement).value) || 10));
    commit();
    select(state.sel);
  });
  for (const d of [2, 3] as const) {
    $(`dims-${d}`).addEventListener('click', () => {
      if (state.dims === d) return;
      state.dims = d;
      commit();
      pressDims();
      if (state.view === 'timeline' || state.view === 'axes') scatter.set3D(d);
      else loadView();
    });
  }
  $<HTMLSelectElement>('color').addEventListener('change', e => {
    state.color = (e.target as HTMLSelectElement).value;
    commit();
    applyColor();
  });
  $('isolate').addEventListener('click', () => {
    if (!state.sel) return status('search or click a word first', true);
    state.view = 'isolate';
    commit();
    loadView();
  });
  $('show-all').addEventListener('click', () => {
    state.view = 'map';
    commit();
    loadView();
  });
  $('analogy-form').addEventListener('submit', e => {
    e.preventDefault();
    solveAnalogy();
  });
  $('axes-form').addEventListener('submit', e => {
    e.preventDefault();
    const [x1, x2, y1, y2] = ['ax-x1', 'ax-x2', 'ax-y1', 'ax-y2'].map(id => $<HTMLInputElement>(id).value.trim());
    Object.assign(state, { view: 'axes', x: `${x1},${x2}`, y: `${y1},${y2}` });
    commit();
    loadView();
  });
  const exportName = () => `${state.space}-${state.view}`;
  $('export-csv').addEventListener('click', () => download(`${exportName()}.csv`, 'text/csv', toCsv(points, scatter)));
  $('export-svg').addEventListener('click', exportSvg);
  $('export-json').addEventListener('click', () => download(`${exportName()}.json`, 'application/json', toJson(points, scatter)));
  hookMapPointer();
}

function hookMapPointer() {
  const canvas = $<HTMLCanvasElement>('canvas'), tooltip = $('tooltip');
  let down: [number, number] | null = null;
  canvas.addEventListener('pointerdown', e => { down = [e.offsetX, e.offsetY]; });
  canvas.addEventListener('pointerup', e => {
    if (down && Math.hypot(e.offsetX - down[0], e.offsetY - down[1]) < 4) {
      const i = scatter.pick(e.offsetX, e.offsetY);
      if (i >= 0) select(scatter.key(i));
    }
    down = null;
  });
  let hoverFrame = 0;
  canvas.addEventListener('pointermove', e => {
    if (hoverFrame) return;
    hoverFrame = requestAnimationFrame(() => {
      hoverFrame = 0;
      const i = e.buttons ? -1 : scatter.pick(e.offsetX, e.offsetY);
      tooltip.hidden = i < 0;
      if (i < 0) return;
      const extra = metadata.map(c => `${c}: ${value(points[i], c) ?? ''}`);
      tooltip.textContent = [scatter.key(i), scatter.coordinates(i).map(v => v.toFixed(3)).join(', '), ...extra].join('\n');
      tooltip.style.transform = `translate(${e.offsetX + 12}px, ${e.offsetY + 12}px)`;
    });
  });
  canvas.addEventListener('pointerleave', () => { tooltip.hidden = true; });
}

function pressDims() {
  for (const d of [2, 3]) $(`dims-${d}`).setAttribute('aria-pressed', String(state.dims === d));
}

/** Opens the state's space: its timeline (when it has snapshots), its map and its selection. */
async function openSpace() {
  commit();
  analogy = null;
  neighbors = [];
  await timeline.load(spaces.find(s => s.name === state.space)?.snapshots ? state.space : null);
  await loadView();
  if (state.sel) await select(state.sel);
  if (state.a && state.b && state.c) await solveAnalogy();
}

async function start() {
  hookUp();
  try {
    const list = spaces = await api.spaces();
    const select = $<HTMLSelectElement>('space');
    select.replaceChildren(...list.map(s => new Option(`${s.name} (${s.count.toLocaleString()} × ${s.dimensions})`, s.name)));
    if (!list.some(s => s.name === state.space)) state.space = list[0]?.name ?? '';
    select.value = state.space;
  } catch (e) {
    return status(`spaces: ${(e as Error).message}`, true);
  }
  $<HTMLSelectElement>('method').value = state.method;
  $<HTMLInputElement>('top').value = String(state.top);
  $<HTMLInputElement>('k').value = String(state.k);
  $<HTMLInputElement>('search').value = state.q;
  $<HTMLSelectElement>('an-method').value = state.am;
  [['an-a', state.a], ['an-b', state.b], ['an-c', state.c]].forEach(([id, v]) => { $<HTMLInputElement>(id).value = v; });
  const [x1 = '', x2 = ''] = state.x.split(','), [y1 = '', y2 = ''] = state.y.split(',');
  [['ax-x1', x1], ['ax-x2', x2], ['ax-y1', y1], ['ax-y2', y2]].forEach(([id, v]) => { $<HTMLInputElement>(id).value = v; });
  pressDims();
  await openSpace();
  document.body.dataset.ready = 'true';
}

// Test and measurement hooks: where a word's point is on the page, and a timed pan.
Object.assign(window, {
  tokenspace: {
    paint: () => paint,
    pointAt: (key: string) => { const i = scatter.indexOf(key); return i < 0 ? null : scatter.clientPosition(i); },
    pan: async (frames: number) => {
      const times: number[] = [];
      scatter.onFrame = ms => times.push(ms);
      let last = performance.now();
      const intervals: number[] = [];
      for (let f = 0; f < frames; f++) {
        scatter.panBy(0.004);
        await new Promise(requestAnimationFrame);
        const now = performance.now();
        intervals.push(now - last);
        last = now;
      }
      scatter.onFrame = () => {};
      return { draw: times, intervals };
    },
  },
});

start();
