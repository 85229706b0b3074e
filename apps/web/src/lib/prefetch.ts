import { useState } from "react";

// A page's server component starts its first API calls while the browser is still loading the
// page's JavaScript (src/server/prefetch.ts) and streams each answer into the page as a promise.
// The first fetch of the matching query takes that answer instead of calling the API again, so
// the first chart waits for max(JavaScript, data) instead of JavaScript + every request in turn.

/** One prefetched answer with the input it answers; null when the server could not get it (the
 * query then calls the API itself, which reports the error). Never rejects. */
export type Prefetched<T> = Promise<{ input: unknown; data: T } | null>;
export type PrefetchedParts = Record<string, Prefetched<unknown> | undefined>;
type DataOf<X> = X extends Prefetched<infer T> ? T : never;

/** JSON equality of two query inputs (both built by the same helpers, so keys come in one order). */
export function sameInput(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Hands each prefetched part out once, to the first fetch for the same input; every other fetch
 * (a refetch, another input, nothing prefetched) goes to `fetch`. */
export function takePrefetched<P extends PrefetchedParts>(parts: P | undefined): <K extends keyof P & string>(part: K, input: unknown, fetch: () => Promise<DataOf<P[K]>>) => Promise<DataOf<P[K]>> {
  const used = new Set<string>();
  return async (part, input, fetch) => {
    const p = parts?.[part];
    if (p && !used.has(part)) {
      const got = await p;
      if (got && !used.has(part) && sameInput(got.input, input)) {
        used.add(part);
        return got.data as DataOf<P[typeof part]>;
      }
    }
    return fetch();
  };
}

/** `takePrefetched` for the lifetime of a page component. */
export function usePrefetched<P extends PrefetchedParts>(parts: P | undefined) {
  return useState(() => takePrefetched(parts))[0];
}
