// Compares two WebGL scatter libraries on the same points: time to first paint and frame time while panning.
// Open bench.html?lib=three|regl&n=50000; the result lands in window.benchResult (read by the bench driver).
import * as THREE from 'three';
import createScatterplot from 'regl-scatterplot';

const params = new URLSearchParams(location.search);
const lib = params.get('lib') ?? 'three';
const n = Number(params.get('n') ?? 50000);
const frames = Number(params.get('frames') ?? 120);
const canvas = document.getElementById('c') as HTMLCanvasElement;

// Deterministic points in [-1, 1]² so both libraries draw the same picture.
let seed = 1;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
const xy = new Float32Array(2 * n);
for (let i = 0; i < xy.length; i++) xy[i] = random();

const frame = () => new Promise<number>(resolve => requestAnimationFrame(resolve));

async function run(pan: (dx: number) => void, firstPaint: number) {
  const stamps: number[] = [];
  for (let f = 0; f <= frames; f++) {
    pan(0.005);
    stamps.push(await frame());
  }
  const intervals = stamps.slice(1).map((t, i) => t - stamps[i]).sort((a, b) => a - b);
  const median = intervals[intervals.length >> 1];
  const p95 = intervals[Math.floor(intervals.length * 0.95)];
  (window as unknown as { benchResult: object }).benchResult = { lib, n, firstPaintMs: firstPaint, panFrameMedianMs: median, panFrameP95Ms: p95 };
}

if (lib === 'three') {
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: false });
  renderer.setSize(canvas.width, canvas.height, false);
  const camera = new THREE.OrthographicCamera(-1.5, 1.5, 1, -1, -10, 10);
  const geometry = new THREE.BufferGeometry();
  const position = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) { position[3 * i] = xy[2 * i]; position[3 * i + 1] = xy[2 * i + 1]; }
  geometry.setAttribute('position', new THREE.BufferAttribute(position, 3));
  const scene = new THREE.Scene();
  scene.add(new THREE.Points(geometry, new THREE.PointsMaterial({ size: 3, sizeAttenuation: false, color: 0x3366aa })));
  renderer.render(scene, camera);
  await frame();
  const firstPaint = performance.now();
  await run(dx => { camera.position.x += dx; renderer.render(scene, camera); }, firstPaint);
} else {
  const plot = createScatterplot({ canvas, width: canvas.width, height: canvas.height, pointSize: 3 });
  const points = Array.from({ length: n }, (_, i) => [xy[2 * i], xy[2 * i + 1]]);
  await plot.draw(points);
  await frame();
  const firstPaint = performance.now();
  let x = 0;
  await run(dx => { x += dx; plot.set({ cameraTarget: [x, 0] }); }, firstPaint);
}
