// The WebGL map: every point of the view as one THREE.Points draw call, the highlighted ones (selection,
// neighbours, analogy words) as a second, larger set on top, arrows as line segments. 2-D uses an
// orthographic camera with pan/zoom; 3-D a perspective camera with orbit controls.
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { placeLabels, type Label } from './labels';

const vertexShader = `
attribute vec3 color;
attribute float size;
varying vec3 vColor;
void main() {
  vColor = color;
  gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
  gl_PointSize = size;
}`;
const fragmentShader = `
varying vec3 vColor;
void main() {
  vec2 d = gl_PointCoord - 0.5;
  if (dot(d, d) > 0.25) discard;
  gl_FragColor = vec4(vColor, 1.0);
}`;

export interface Highlight { index: number; color: [number, number, number]; size: number }

export class Scatter {
  readonly renderer: THREE.WebGLRenderer;
  private readonly scene = new THREE.Scene();
  private readonly base = new THREE.Points(new THREE.BufferGeometry(), this.material());
  private readonly top = new THREE.Points(new THREE.BufferGeometry(), this.material());
  private readonly arrows = new THREE.Group();
  private camera: THREE.OrthographicCamera | THREE.PerspectiveCamera = new THREE.OrthographicCamera();
  private controls: OrbitControls | null = null;
  private keys: string[] = [];
  private xyz: Float32Array = new Float32Array(0);
  private baseColors: Float32Array = new Float32Array(0);
  private highlights: Highlight[] = [];
  private dims: 2 | 3 = 2;
  private pending = 0;
  /** Called after each frame is drawn, with the time it took (ms). */
  onFrame: (ms: number) => void = () => {};

  constructor(private readonly canvas: HTMLCanvasElement, private readonly labelLayer: HTMLElement) {
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(window.devicePixelRatio);
    this.renderer.setClearColor(0xffffff);
    this.scene.add(this.base, this.top, this.arrows);
    new ResizeObserver(() => this.resize()).observe(canvas.parentElement!);
  }

  private material() {
    return new THREE.ShaderMaterial({ vertexShader, fragmentShader, depthTest: false, transparent: false });
  }

  get count() { return this.keys.length; }
  key(i: number) { return this.keys[i]; }
  indexOf(key: string) { return this.keys.indexOf(key); }
  coordinates(i: number): number[] { return Array.from(this.xyz.subarray(3 * i, 3 * i + this.dims)); }

  /** Replaces the points; <paramref>xyz</paramref> holds 3 numbers a point (z = 0 in 2-D). */
  setPoints(keys: string[], xyz: Float32Array, dims: 2 | 3, keepView = false) {
    const changedDims = dims !== this.dims || !this.controls;
    this.keys = keys;
    this.xyz = xyz;
    this.dims = dims;
    this.baseColors = new Float32Array(3 * keys.length).fill(0.35);
    for (let i = 0; i < keys.length; i++) this.baseColors.set([0.27, 0.45, 0.7], 3 * i);
    const g = new THREE.BufferGeometry();
    g.setAttribute('position', new THREE.BufferAttribute(xyz, 3));
    g.setAttribute('color', new THREE.BufferAttribute(new Float32Array(3 * keys.length), 3));
    g.setAttribute('size', new THREE.BufferAttribute(new Float32Array(keys.length), 1));
    g.computeBoundingSphere();
    this.base.geometry.dispose();
    this.base.geometry = g;
    this.paintBase();
    if (changedDims) this.makeCamera();
    if (!keepView || changedDims) this.fit();
    this.setHighlights(this.highlights.filter(h => h.index < keys.length));
  }

  /** Moves the points to new coordinates (timeline frames) without touching the camera. */
  move(xyz: Float32Array) {
    this.xyz.set(xyz);
    (this.base.geometry.getAttribute('position') as THREE.BufferAttribute).needsUpdate = true;
    this.setHighlights(this.highlights);
  }

  /** Colours every point (3 floats each, 0..1); null returns to the default blue. */
  setColors(rgb: Float32Array | null) {
    if (rgb) this.baseColors = rgb;
    else for (let i = 0; i < this.keys.length; i++) this.baseColors.set([0.27, 0.45, 0.7], 3 * i);
    this.paintBase();
  }

  private paintBase() {
    const n = this.keys.length;
    const color = this.base.geometry.getAttribute('color') as THREE.BufferAttribute;
    const size = this.base.geometry.getAttribute('size') as THREE.BufferAttribute;
    const dim = this.highlights.length > 0;
    const px = window.devicePixelRatio * (n > 20000 ? 2.5 : n > 2000 ? 4 : n > 200 ? 6 : 9);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) {
        const v = this.baseColors[3 * i + c];
        (color.array as Float32Array)[3 * i + c] = dim ? 0.55 + 0.45 * v : v; // washed out behind a selection
      }
      (size.array as Float32Array)[i] = px;
    }
    color.needsUpdate = size.needsUpdate = true;
    this.request();
  }

  setHighlights(highlights: Highlight[]) {
    const hadSome = this.highlights.length > 0;
    this.highlights = highlights;
    const g = new THREE.BufferGeometry();
    const position = new Float32Array(3 * highlights.length);
    const color = new Float32Array(3 * highlights.length);
    const size = new Float32Array(highlights.length);
    highlights.forEach((h, j) => {
      position.set(this.xyz.subarray(3 * h.index, 3 * h.index + 3), 3 * j);
      color.set(h.color, 3 * j);
      size[j] = h.size * window.devicePixelRatio;
    });
    g.setAttribute('position', new THREE.BufferAttribute(position, 3));
    g.setAttribute('color', new THREE.BufferAttribute(color, 3));
    g.setAttribute('size', new THREE.BufferAttribute(size, 1));
    this.top.geometry.dispose();
    this.top.geometry = g;
    if (hadSome !== highlights.length > 0) this.paintBase();
    this.request();
  }

  /** Draws an arrow from point <paramref>from</paramref> to point <paramref>to</paramref> for each pair. */
  setArrows(pairs: [number, number][]) {
    for (const child of [...this.arrows.children]) {
      this.arrows.remove(child);
      (child as THREE.ArrowHelper).dispose();
    }
    for (const [from, to] of pairs) {
      const a = new THREE.Vector3().fromArray(this.xyz, 3 * from);
      const b = new THREE.Vector3().fromArray(this.xyz, 3 * to);
      const length = a.distanceTo(b);
      if (length === 0) continue;
      const arrow = new THREE.ArrowHelper(b.clone().sub(a).normalize(), a, length, 0xd62728, length * 0.22, length * 0.12);
      this.arrows.add(arrow);
    }
    this.request();
  }

  set3D(dims: 2 | 3) {
    if (dims === this.dims) return;
    this.dims = dims;
    this.makeCamera();
    this.fit();
  }

  private makeCamera() {
    this.controls?.dispose();
    const { width, height } = this.size();
    if (this.dims === 2) {
      this.camera = new THREE.OrthographicCamera(-width / 2, width / 2, height / 2, -height / 2, -1e6, 1e6);
      this.camera.position.set(0, 0, 10);
    } else {
      this.camera = new THREE.PerspectiveCamera(50, width / height, 1e-3, 1e6);
    }
    const controls = new OrbitControls(this.camera, this.canvas);
    controls.zoomToCursor = true;
    if (this.dims === 2) {
      controls.enableRotate = false;
      controls.screenSpacePanning = true;
      controls.mouseButtons = { LEFT: THREE.MOUSE.PAN, MIDDLE: THREE.MOUSE.DOLLY, RIGHT: THREE.MOUSE.PAN };
      controls.touches = { ONE: THREE.TOUCH.PAN, TWO: THREE.TOUCH.DOLLY_PAN };
    }
    controls.addEventListener('change', () => this.request());
    this.controls = controls;
  }

  /** Frames all points. */
  fit() {
    const sphere = this.base.geometry.boundingSphere ?? new THREE.Sphere(new THREE.Vector3(), 1);
    const r = Math.max(sphere.radius, 1e-6);
    const { width, height } = this.size();
    if (this.camera instanceof THREE.OrthographicCamera) {
      const box = new THREE.Box3().setFromBufferAttribute(this.base.geometry.getAttribute('position') as THREE.BufferAttribute);
      const center = box.getCenter(new THREE.Vector3());
      const span = box.getSize(new THREE.Vector3());
      this.camera.zoom = 0.9 * Math.min(width / Math.max(span.x, 1e-6), height / Math.max(span.y, 1e-6));
      this.camera.position.set(center.x, center.y, 10);
      this.controls!.target.set(center.x, center.y, 0);
    } else {
      this.camera.position.copy(sphere.center).add(new THREE.Vector3(0.6, 0.5, 1).normalize().multiplyScalar(2.6 * r));
      this.controls!.target.copy(sphere.center);
    }
    this.camera.updateProjectionMatrix();
    this.controls!.update();
    this.request();
  }

  /** Pans the view by a fraction of its width (used by the frame-time measurement). */
  panBy(fraction: number) {
    const { width } = this.size();
    const step = this.camera instanceof THREE.OrthographicCamera ? fraction * width / this.camera.zoom : fraction;
    this.camera.position.x += step;
    this.controls!.target.x += step;
    this.controls!.update();
  }

  private size() {
    const parent = this.canvas.parentElement!;
    return { width: Math.max(parent.clientWidth, 1), height: Math.max(parent.clientHeight, 1) };
  }

  private resize() {
    const { width, height } = this.size();
    this.renderer.setSize(width, height);
    if (this.camera instanceof THREE.OrthographicCamera) {
      Object.assign(this.camera, { left: -width / 2, right: width / 2, top: height / 2, bottom: -height / 2 });
    } else {
      this.camera.aspect = width / height;
    }
    this.camera.updateProjectionMatrix();
    this.request();
  }

  request() {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      this.draw();
    });
  }

  private draw() {
    const started = performance.now();
    this.renderer.render(this.scene, this.camera);
    this.labelLayer.replaceChildren(...this.labels().map(l => l.element));
    this.onFrame(performance.now() - started);
  }

  /** Screen position (CSS pixels in the canvas) of every point, NaN when behind the camera. */
  private screen(): Float32Array {
    const { width, height } = this.size();
    this.camera.updateMatrixWorld();
    const m = new THREE.Matrix4().multiplyMatrices(this.camera.projectionMatrix, this.camera.matrixWorldInverse).elements;
    const n = this.keys.length, out = new Float32Array(2 * n), p = this.xyz;
    for (let i = 0; i < n; i++) {
      const x = p[3 * i], y = p[3 * i + 1], z = p[3 * i + 2];
      const w = m[3] * x + m[7] * y + m[11] * z + m[15];
      if (w <= 0) { out[2 * i] = out[2 * i + 1] = NaN; continue; }
      out[2 * i] = ((m[0] * x + m[4] * y + m[8] * z + m[12]) / w + 1) * width / 2;
      out[2 * i + 1] = (1 - (m[1] * x + m[5] * y + m[9] * z + m[13]) / w) * height / 2;
    }
    return out;
  }

  /** The point nearest to (x, y) in canvas pixels within <paramref>radius</paramref>, or -1. */
  pick(x: number, y: number, radius = 8): number {
    const s = this.screen();
    let best = -1, bestD = radius * radius;
    for (let i = 0; i < this.keys.length; i++) {
      const dx = s[2 * i] - x, dy = s[2 * i + 1] - y, d = dx * dx + dy * dy;
      if (d <= bestD) { bestD = d; best = i; }
    }
    return best;
  }

  /** Where point <paramref>i</paramref> is on the page (client pixels), or null when off screen. */
  clientPosition(i: number): [number, number] | null {
    const s = this.screen(), rect = this.canvas.getBoundingClientRect();
    const x = s[2 * i], y = s[2 * i + 1];
    if (!(x >= 0 && y >= 0 && x < rect.width && y < rect.height)) return null;
    return [rect.left + x, rect.top + y];
  }

  private labels(): Label[] {
    const s = this.screen();
    const { width, height } = this.size();
    // Highlighted points first, then the view's own order (frequency order for most spaces).
    const order = this.highlights.map(h => h.index);
    const budget = Math.min(this.keys.length, 4000);
    for (let i = 0; i < budget; i++) order.push(i);
    return placeLabels(order, i => this.keys[i], i => [s[2 * i], s[2 * i + 1]], width, height,
      new Set(this.highlights.map(h => h.index)));
  }
}
