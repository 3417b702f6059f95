// The server's JSON API (docs/api.md). Every call is a GET; errors come back as application/problem+json.

export interface Space { name: string; count: number; dimensions: number; source: string }
export interface Neighbor { key: string; similarity: number }
export interface Point { key: string; x: number; y: number; z?: number }
export interface Projection { points: Point[] }
export interface Analogy { a: string; b: string; c: string; method: string; answer: string | null; candidates: { key: string; score: number }[] }
export interface Frame { step: number; loss: number | null; points: Point[] }

/** An answer other than 2xx: the problem's title and detail (RFC 9457), or the status line. */
export class ApiError extends Error {
  constructor(message: string, readonly status: number) { super(message); }
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
    let message = `${response.status} ${response.statusText}`;
    try {
      const problem = await response.json() as { title?: string; detail?: string };
      message = problem.detail ?? problem.title ?? message;
    } catch { /* not JSON: keep the status line */ }
    throw new ApiError(message, response.status);
  }
  return await response.json() as T;
}

export const spaces = () => get<Space[]>('/api/spaces');

export const keys = (space: string, prefix: string, limit = 20, signal?: AbortSignal) =>
  get<{ keys: string[] }>('/api/keys', { space, prefix, limit }, signal).then(r => r.keys);

export const near = (space: string, word: string) =>
  get<{ keys: string[] }>('/api/keys', { space, near: word, limit: 5 }).then(r => r.keys);

export const neighbors = (space: string, word: string, k: number) =>
  get<{ query: string; neighbors: Neighbor[] }>('/api/neighbors', { space, word, k }).then(r => r.neighbors);

export const analogy = (space: string, a: string, b: string, c: string, method: string, k = 5) =>
  get<Analogy>('/api/analogy', { space, a, b, c, method, k });

export const snapshots = (space: string) => get<{ frames: Frame[] }>('/api/snapshots', { space }).then(r => r.frames);
