// The training timeline of a checkpoint with snapshots: a slider over the aligned frames, play, the loss
// curve (and, when the run logged formation metrics, the share of each token's neighbours kept from the frame
// before) with the current step marked, and the points moving between frames.
import * as api from './api';

const svg = 'http://www.w3.org/2000/svg';

export class Timeline {
  private frames: api.Frame[] = [];
  private coords: Float32Array[] = [];
  private playing = 0;
  private marker: SVGCircleElement | null = null;
  private index = 0;

  constructor(private readonly panel: HTMLElement, private readonly slider: HTMLInputElement, private readonly play: HTMLElement,
    private readonly stepText: HTMLElement, private readonly loss: SVGSVGElement,
    private readonly onFrame: (frame: api.Frame, xyz: Float32Array, settled: boolean) => void) {
    slider.addEventListener('input', () => { this.stop(); this.go(Number(slider.value)); });
    play.addEventListener('click', () => (this.playing ? this.stop() : this.start()));
  }

  get available() { return this.frames.length > 0; }

  /** Fetches the space's snapshots; a space without them hides the panel. */
  async load(space: string | null) {
    this.stop();
    try {
      this.frames = space === null ? [] : await api.snapshots(space);
    } catch {
      this.frames = [];
    }
    this.coords = this.frames.map(f => {
      const xyz = new Float32Array(3 * f.points.length);
      f.points.forEach((p, i) => xyz.set([p.x, p.y, 0], 3 * i));
      return xyz;
    });
    this.panel.hidden = !this.available;
    this.slider.max = String(Math.max(0, this.frames.length - 1));
    this.drawLoss();
  }

  /** Shows the frame of <paramref>step</paramref> (the last one when no frame has that step). */
  show(step: number) {
    const at = this.frames.findIndex(f => f.step === step);
    this.go(at >= 0 ? at : this.frames.length - 1);
  }

  private go(index: number) {
    this.index = index;
    this.slider.value = String(index);
    const frame = this.frames[index];
    const overlap = frame.formation?.wte.overlap_with_previous;
    this.stepText.textContent = `step ${frame.step}${frame.loss === null ? '' : ` · loss ${frame.loss.toFixed(3)}`}`
      + (overlap == null ? '' : ` · neighbours kept ${Math.round(100 * overlap)}%`);
    this.mark(index);
    this.onFrame(frame, this.coords[index], true);
  }

  private start() {
    if (this.index >= this.frames.length - 1) this.go(0);
    this.play.textContent = 'Pause';
    const perFrame = 400; // ms from one snapshot to the next, eased between them
    let from = performance.now();
    const tick = (now: number) => {
      const t = (now - from) / perFrame;
      if (t >= 1) {
        if (this.index + 1 >= this.frames.length) return this.stop();
        this.go(this.index + 1);
        from = now;
      } else if (this.index + 1 < this.frames.length) {
        const a = this.coords[this.index], b = this.coords[this.index + 1];
        const e = t * t * (3 - 2 * t);
        const mid = a.map((v, i) => v + (b[i] - v) * e);
        this.onFrame(this.frames[this.index], mid, false);
      }
      this.playing = requestAnimationFrame(tick);
    };
    this.playing = requestAnimationFrame(tick);
  }

  private stop() {
    cancelAnimationFrame(this.playing);
    this.playing = 0;
    this.play.textContent = 'Play';
  }

  private drawLoss() {
    this.loss.replaceChildren();
    this.marker = null;
    const losses = this.frames.map(f => f.loss);
    const overlaps = this.frames.map(f => f.formation?.wte.overlap_with_previous ?? null);
    const recorded = losses.some(l => l !== null);
    this.loss.style.display = recorded || overlaps.some(o => o !== null) ? '' : 'none';
    const x = (i: number) => (this.frames.length > 1 ? (i / (this.frames.length - 1)) * 290 + 5 : 150);
    const curve = (values: (number | null)[], y: (v: number) => number, name: string) => {
      const line = document.createElementNS(svg, 'polyline');
      line.setAttribute('points', values.map((v, i) => (v === null ? '' : `${x(i)},${y(v)}`)).filter(Boolean).join(' '));
      line.setAttribute('class', name);
      this.loss.append(line);
    };
    // Neighbour overlap is a share: drawn on a fixed 0–1 scale behind the loss.
    if (overlaps.some(o => o !== null)) curve(overlaps, o => 85 - o * 75, 'overlap');
    const known = losses.filter((l): l is number => l !== null);
    const lo = Math.min(...known), hi = Math.max(...known), span = hi - lo || 1;
    const y = (l: number) => 85 - ((l - lo) / span) * 75;
    const title = document.createElementNS(svg, 'title');
    title.textContent = (recorded ? `loss ${hi.toFixed(3)} → ${lo.toFixed(3)}` : 'no loss recorded')
      + (overlaps.some(o => o !== null) ? '; grey: share of neighbours kept from the frame before (0–1)' : '');
    this.loss.append(title);
    if (!recorded) return;
    curve(losses, y, 'loss');
    const marker = document.createElementNS(svg, 'circle');
    marker.setAttribute('r', '3');
    marker.setAttribute('class', 'marker');
    this.loss.append(marker);
    this.marker = marker;
    this.position = (i: number) => [x(i), y(losses[i] ?? lo)];
  }

  private position: (i: number) => [number, number] = () => [0, 0];

  private mark(index: number) {
    if (!this.marker) return;
    const [cx, cy] = this.position(index);
    this.marker.setAttribute('cx', String(cx));
    this.marker.setAttribute('cy', String(cy));
  }
}
