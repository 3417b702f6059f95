// Colour by a metadata column: up to 12 distinct values get the categorical palette (the rest grey);
// numeric columns a blue-to-orange ramp.

const palette: [number, number, number][] = [
  [0.12, 0.47, 0.71], [1.0, 0.5, 0.05], [0.17, 0.63, 0.17], [0.84, 0.15, 0.16], [0.58, 0.4, 0.74], [0.55, 0.34, 0.29],
  [0.89, 0.47, 0.76], [0.5, 0.5, 0.5], [0.74, 0.74, 0.13], [0.09, 0.75, 0.81], [0.68, 0.78, 0.91], [1.0, 0.73, 0.47],
];

export interface Coloring { rgb: Float32Array; legend: { text: string; color: string }[] }

const css = ([r, g, b]: number[]) => `rgb(${Math.round(r * 255)}, ${Math.round(g * 255)}, ${Math.round(b * 255)})`;

export function colorBy(values: (string | number | null | undefined)[]): Coloring {
  const rgb = new Float32Array(3 * values.length).fill(0.75);
  const present = values.filter((v): v is string | number => v !== null && v !== undefined && v !== '');
  const numeric = present.length > 0 && present.every(v => typeof v === 'number' || (v.trim() !== '' && Number.isFinite(Number(v))));
  const distinct = [...new Set(present.map(String))];
  if (numeric && distinct.length > palette.length) {
    const numbers = present.map(Number);
    const lo = Math.min(...numbers), hi = Math.max(...numbers), span = hi - lo || 1;
    const ramp = (t: number): [number, number, number] => [0.2 + 0.8 * t, 0.4 + 0.1 * t, 0.8 - 0.7 * t];
    values.forEach((v, i) => {
      if (v !== null && v !== undefined && v !== '') rgb.set(ramp((Number(v) - lo) / span), 3 * i);
    });
    return { rgb, legend: [{ text: String(lo), color: css(ramp(0)) }, { text: String(hi), color: css(ramp(1)) }] };
  }
  const counts = new Map<string, number>();
  for (const v of present) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
  const common = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, palette.length).map(e => e[0]);
  const slot = new Map(common.map((v, i) => [v, i]));
  values.forEach((v, i) => {
    const s = slot.get(String(v));
    if (s !== undefined) rgb.set(palette[s], 3 * i);
  });
  const legend = common.map((text, i) => ({ text, color: css(palette[i]) }));
  if (distinct.length > common.length) legend.push({ text: 'other', color: css([0.75, 0.75, 0.75]) });
  return { rgb, legend };
}
