import { runPagePoints } from "../../../lib/queries.ts";
import { prefetchRunPage } from "../../../server/prefetch.ts";
import { RunPage } from "./RunPage.tsx";

// A server component only to start the page's first API calls at once (see src/lib/prefetch.ts).
export default async function Page({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { id } = await params;
  const { points } = await searchParams;
  return <RunPage prefetched={await prefetchRunPage(id, runPagePoints(typeof points === "string" ? points : undefined))} />;
}
