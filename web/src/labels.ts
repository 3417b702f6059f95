// Labels that never overlap: candidates in priority order, each placed right of its point if that box is
// free, else left of it, else skipped. Boxes are kept in a uniform grid so a check looks at a few cells.

const font = '12px system-ui, sans-serif';
const height = 14;
const cell = 64;
const maxLabels = 400;

export interface Label { element: HTMLElement }

const context = document.createElement('canvas').getContext('2d')!;
context.font = font;
const widths = new Map<string, number>();
const pool: HTMLElement[] = [];

function width(text: string) {
  let w = widths.get(text);
  if (w === undefined) {
    w = Math.ceil(context.measureText(text).width) + 4;
    if (widths.size > 200000) widths.clear();
    widths.set(text, w);
  }
  return w;
}

type Box = [number, number, number, number];

class Grid {
  private readonly cells = new Map<number, Box[]>();
  private *keys([x0, y0, x1, y1]: Box) {
    for (let cx = Math.floor(x0 / cell); cx <= Math.floor(x1 / cell); cx++)
      for (let cy = Math.floor(y0 / cell); cy <= Math.floor(y1 / cell); cy++) yield cx * 65536 + cy;
  }
  free(box: Box) {
    for (const k of this.keys(box))
      for (const b of this.cells.get(k) ?? [])
        if (box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3]) return false;
    return true;
  }
  add(box: Box) {
    for (const k of this.keys(box)) {
      const list = this.cells.get(k);
      if (list) list.push(box); else this.cells.set(k, [box]);
    }
  }
}

/**
 * Places labels for the candidates <paramref>order</paramref> (indices, best first; repeats ignored) inside a
 * width × height view. Returns the label elements, text set with textContent (keys are untrusted text).
 */
export function placeLabels(order: number[], text: (i: number) => string, at: (i: number) => [number, number],
  viewWidth: number, viewHeight: number, strong: Set<number>): Label[] {
  const grid = new Grid();
  const done = new Set<number>();
  const labels: Label[] = [];
  for (const i of order) {
    if (labels.length >= maxLabels) break;
    if (done.has(i)) continue;
    done.add(i);
    const [x, y] = at(i);
    if (!(x >= 0 && y >= 0 && x <= viewWidth && y <= viewHeight)) continue;
    const key = text(i), w = width(key);
    const right: Box = [x + 5, y - height / 2, x + 5 + w, y + height / 2];
    const left: Box = [x - 5 - w, y - height / 2, x - 5, y + height / 2];
    const box = grid.free(right) && right[2] <= viewWidth ? right : grid.free(left) && left[0] >= 0 ? left : null;
    if (!box) continue;
    grid.add(box);
    const element = pool[labels.length] ?? (pool[labels.length] = document.createElement('span'));
    element.className = strong.has(i) ? 'label strong' : 'label';
    element.textContent = key;
    element.style.transform = `translate(${box[0]}px, ${box[1]}px)`;
    labels.push({ element });
  }
  return labels;
}
