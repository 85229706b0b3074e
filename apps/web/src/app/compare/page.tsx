import { Suspense } from "react";
import { parseCompareParams } from "../../lib/queries.ts";
import { prefetchCompare } from "../../server/prefetch.ts";
import { ComparePage } from "./ComparePage.tsx";

// A server component only to start the page's first API calls at once (see src/lib/prefetch.ts).
export default async function Page({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const query = await searchParams;
  const params = parseCompareParams((k) => (typeof query[k] === "string" ? query[k] : undefined));
  return (
    <Suspense>
      <ComparePage prefetched={await prefetchCompare(params)} />
    </Suspense>
  );
}
