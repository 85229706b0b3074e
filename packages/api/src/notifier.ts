import { EventEmitter } from "node:events";

/**
 * Wakes live subscriptions when something of a run changed. Subscriptions always re-read from the
 * database (the source of truth and the resume cursor), so a missed or spurious wake-up costs a
 * poll interval at most; writers in this process (the orchestrator) call `notify` to make updates
 * immediate, writers elsewhere are picked up by the poll.
 */
export class RunNotifier {
  private readonly emitter = new EventEmitter();

  constructor(readonly pollMs = 500) {
    this.emitter.setMaxListeners(0);
  }

  notify(runId: string): void {
    this.emitter.emit(runId);
  }

  /** Resolves on the next notification for the run, after `pollMs`, or when `signal` aborts. */
  wait(runId: string, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(runId, done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, this.pollMs);
      this.emitter.once(runId, done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
