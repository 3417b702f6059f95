// The server's JSON API (docs/api.md). Every call is a GET; errors come back as application/problem+json.

export interface Space { name: string; count: number; dimensions: number; source: string; metadata: string[]; snapshots: boolean; approximate: boolean }
export interface Neighbor { key: string; similarity: number }
/** A mapped key; <c>meta</c> holds one value per metadata column of the answer, <c>marked</c> the chosen words. */
export interface Point { key: string; x: number; y: number; z?: number; meta?: (string | null)[]; marked?: boolean }
export interface Projection { points: Point[]; metadata?: string[] }
export interface Analogy { a: string; b: string; c: string; method: string; answer: string | null; candidates: { key: string; score: number }[] }
/** What formation.jsonl recorded for the wte at a frame (fields about other frames are null where there is none). */
export interface FormationMetrics { overlap_with_previous: number | null; disparity_to_previous: number | null; mean_norm: number; effective_rank: number }
export interface Frame { step: number; loss: number | null; points: Point[]; formation?: { wte: FormationMetrics } }

/** An answer other than 2xx: the problem's title and detail (RFC 9457), or the status line. */
export class ApiError extends Error {
  constructor(message: string, readonly status: number, readonly suggestions: string[] = []) { super(message); }
}

type Params = Record<string, string | number | undefined>;

export function url(path: string, params: Params): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') query.set(name, String(value));
  return `${path}?${query}`;
}

export async function get<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<T> {
  const response = await fetch(url(path, params), { signal, headers: { Accept: 'application/json' } });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`, suggestions: string[] = [];
    try {
      const problem = await response.json() as { title?: string; detail?: string; suggestions?: string[] };
      message = problem.detail ?? problem.title ?? message;
      suggestions = problem.suggestions ?? [];
    } catch { /* not JSON: keep the status line */ }
    throw new ApiError(message, response.status, suggestions);
  }
  return await response.json() as T;
}

export const spaces = () => get<Space[]>('/api/spaces');

export const keys = (space: string, prefix: string, limit = 20, signal?: AbortSignal) =>
  get<{ keys: string[] }>('/api/keys', { space, prefix, limit }, signal).then(r => r.keys);

export const neighbors = (space: string, word: string, k: number) =>
  get<{ query: string; neighbors: Neighbor[] }>('/api/neighbors', { space, word, k }).then(r => r.neighbors);

export const analogy = (space: string, a: string, b: string, c: string, method: string, k = 5) =>
  get<Analogy>('/api/analogy', { space, a, b, c, method, k });

export const snapshots = (space: string) => get<{ frames: Frame[] }>('/api/snapshots', { space }).then(r => r.frames);

/**
 * t-SNE as it converges (Server-Sent Events): <paramref>frame</paramref> gets each intermediate layout,
 * the promise the final one. Aborting the signal closes the stream, which stops the computation.
 */
export function streamProjection(params: Params, frame: (points: Point[], iteration: number, total: number) => void,
  signal: AbortSignal): Promise<Projection> {
  return new Promise((resolve, reject) => {
    const source = new EventSource(url('/api/projection', { ...params, stream: 1 }));
    signal.addEventListener('abort', () => { source.close(); reject(new DOMException('aborted', 'AbortError')); });
    source.addEventListener('frame', e => {
      const f = JSON.parse((e as MessageEvent).data) as { iteration: number; total: number; points: Point[] };
      frame(f.points, f.iteration, f.total);
    });
    source.addEventListener('result', e => {
      source.close();
      resolve(JSON.parse((e as MessageEvent).data) as Projection);
    });
    // A refused request (problem+json) or a dropped connection: ask again plainly to get the reason.
    source.onerror = () => {
      source.close();
      get<Projection>('/api/projection', params, signal).then(resolve, reject);
    };
  });
}
