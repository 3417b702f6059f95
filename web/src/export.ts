// Export of the current view: coordinates (as on the map) with each point's metadata, as CSV or JSON.
import type { Point } from './api';
import type { Scatter } from './scatter';

function rows(points: Point[], scatter: Scatter) {
  return points.map((p, i) => {
    const [x, y, z] = scatter.coordinates(i);
    return { ...p, x, y, ...(z === undefined ? {} : { z }) };
  });
}

export function toJson(points: Point[], scatter: Scatter) {
  return JSON.stringify({ points: rows(points, scatter) }, null, 1);
}

/** RFC 4180 CSV; a cell starting with = + - @ gets a leading ' so a spreadsheet never runs it as a formula. */
export function toCsv(points: Point[], scatter: Scatter) {
  const list = rows(points, scatter);
  const header = [...new Set(list.flatMap(r => Object.keys(r)))];
  const cell = (v: unknown) => {
    let s = v === undefined || v === null ? '' : String(v);
    if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [header, ...list.map(r => header.map(h => (r as Record<string, unknown>)[h]))].map(r => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

export function download(name: string, type: string, text: string) {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], { type }));
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}
