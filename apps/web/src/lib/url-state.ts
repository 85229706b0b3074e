import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

// Pages whose view is their address (compare, the evaluation diff): every change rewrites the
// query string, so the address is the shareable link. The router applies a replace a little
// later, so building each change from the address would drop changes made before it caught up
// (a fast typist's letters, a second checkbox): changes build on the last one asked for, and the
// page shows that at once.

/** `query` with each key of `patch` set, or removed where its value is null or "". */
export function patchQuery(query: string, patch: Record<string, string | null>): string {
  const next = new URLSearchParams(query);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || v === "") next.delete(k);
    else next.set(k, v);
  }
  return next.toString();
}

/** The address's query as the page should show it, and `update` to change it. */
export function useUrlState(): { params: URLSearchParams; update: (patch: Record<string, string | null>) => void } {
  const address = useSearchParams().toString();
  const router = useRouter();
  const pathname = usePathname();
  const [view, setView] = useState(address);
  const latest = useRef(address);
  const asked = useRef<string[]>([]);
  useEffect(() => {
    const mine = asked.current.indexOf(address);
    if (mine >= 0) {
      // One of ours landed; later ones are still on their way, so the view stays ahead.
      asked.current = asked.current.slice(mine + 1);
      return;
    }
    // Anything else (back, a link) replaces what the page showed.
    asked.current = [];
    latest.current = address;
    setView(address);
  }, [address]);
  const update = useCallback(
    (patch: Record<string, string | null>) => {
      const next = patchQuery(latest.current, patch);
      if (next === latest.current) return;
      latest.current = next;
      asked.current.push(next);
      setView(next);
      router.replace(`${pathname}?${next}`);
    },
    [router, pathname],
  );
  const params = useMemo(() => new URLSearchParams(view), [view]);
  return { params, update };
}
