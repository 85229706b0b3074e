"use client";
import { useEffect, useRef, useState } from "react";
import { api, handleAuthError, onLiveConnection, type RouterOutputs } from "./api.ts";

export type RunEvent = RouterOutputs["events"]["list"]["items"][number];

/** A run's events, live: the history, then each new event over the WebSocket (resumed after a
 * reconnect without gaps by the server's tracked ids). */
export function useRunEvents(runId: string, onTransition: () => void): { events: RunEvent[]; live: boolean } {
  const [events, setEvents] = useState<RunEvent[]>([]);
  const [live, setLive] = useState(false);
  const cb = useRef(onTransition);
  cb.current = onTransition;
  useEffect(() => {
    setEvents([]);
    const off = onLiveConnection(setLive);
    const sub = api().events.subscribe.subscribe(
      { runId },
      {
        onStarted: () => setLive(true),
        onData: ({ data }) => {
          setEvents((prev) => (prev.length >= 2000 ? [...prev.slice(-1500), data] : [...prev, data]));
          if (data.kind === "transition") cb.current();
        },
        onError: (e) => {
          setLive(false);
          handleAuthError(e); // a session that ended sends the page back to sign-in
        },
      },
    );
    return () => {
      sub.unsubscribe();
      off();
    };
  }, [runId]);
  return { events, live };
}

/** Calls `onStep` (throttled) whenever new metric points arrive for the run, starting after
 * `afterStep` so the history is not streamed again. */
export function useNewPoints(runId: string, afterStep: number | null, onStep: (step: number) => void, throttleMs = 1_500): void {
  const cb = useRef(onStep);
  cb.current = onStep;
  useEffect(() => {
    if (afterStep === null) return;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let last = afterStep;
    const sub = api().metrics.onPoints.subscribe(
      { runId, lastEventId: String(afterStep) },
      {
        onData: ({ data }) => {
          last = Math.max(last, data.step);
          if (!timer) timer = setTimeout(() => ((timer = null), cb.current(last)), throttleMs);
        },
      },
    );
    return () => {
      sub.unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [runId, afterStep, throttleMs]);
}

export type EvalSummary = RouterOutputs["evals"]["list"]["items"][number];

/** Status and progress of the given evaluations, live over the WebSocket: `onChange` gets the
 * current rows first and then every change, until all of them have finished (the server then
 * ends the subscription). Pass only active evaluations; a new set of ids resubscribes. */
export function useEvalWatch(ids: string[], onChange: (items: EvalSummary[]) => void): void {
  const cb = useRef(onChange);
  cb.current = onChange;
  const key = [...ids].sort().join(",");
  useEffect(() => {
    if (!key) return;
    const sub = api().evals.watch.subscribe(
      { ids: key.split(",").slice(0, 50) },
      {
        onData: (data) => cb.current(data.items),
        onError: (e) => handleAuthError(e),
      },
    );
    return () => sub.unsubscribe();
  }, [key]);
}
