// The page's state, always mirrored in the URL so that any view is a permalink:
// /?space=S&q=WORD&sel=WORD&view=map|isolate|axes|words|timeline&method=pca&dims=2&top=5000&k=10&color=…

export type View = 'map' | 'isolate' | 'axes' | 'words' | 'timeline';

export interface State {
  space: string;
  q: string;
  sel: string;
  view: View;
  method: string;
  dims: 2 | 3;
  top: number;
  k: number;
  color: string;
  a: string; b: string; c: string; am: string;
  x: string; y: string;
  words: string;
  step: number;
}

const views: View[] = ['map', 'isolate', 'axes', 'words', 'timeline'];

function int(text: string | null, fallback: number, min: number, max: number) {
  const n = Number(text);
  return text !== null && Number.isInteger(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

export function read(search = location.search): State {
  const p = new URLSearchParams(search);
  const s = (name: string) => p.get(name) ?? '';
  const view = s('view') as View;
  return {
    space: s('space'), q: s('q'), sel: s('sel') || s('q'),
    view: views.includes(view) ? view : 'map',
    method: ['pca', 'tsne', 'umap'].includes(s('method')) ? s('method') : 'pca',
    dims: s('dims') === '3' ? 3 : 2,
    top: int(p.get('top'), 5000, 3, 100000),
    k: int(p.get('k'), 10, 1, 1000),
    color: s('color'),
    a: s('a'), b: s('b'), c: s('c'), am: s('am') === 'cosmul' ? 'cosmul' : 'add',
    x: s('x'), y: s('y'), words: s('words'),
    step: int(p.get('step'), -1, -1, 1 << 30),
  };
}

const defaults = read('');

/** Writes the state into the address bar (replacing the entry: the back button is not a step log). */
export function write(state: State) {
  const p = new URLSearchParams();
  for (const [name, value] of Object.entries(state) as [keyof State, State[keyof State]][]) {
    if (name === 'sel' && value === state.q) continue;
    if (value !== defaults[name] || name === 'space') p.set(name, String(value));
  }
  const next = `${location.pathname}?${p}`;
  if (next !== location.pathname + location.search) history.replaceState(null, '', next);
}
