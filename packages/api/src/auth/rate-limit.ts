/**
 * Counts failed authentications per client address in a sliding window. Once a client reaches
 * `maxFailures` it is refused (even with a good token) until its oldest failure leaves the window:
 * guessing 256-bit tokens is hopeless anyway, but this keeps a misbehaving script from hammering
 * the database and makes brute force visibly fail fast.
 */
export class FailedAuthLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    readonly maxFailures = 20,
    readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until the client may try again, or 0 when it is not blocked. */
  retryAfterMs(client: string): number {
    const list = this.prune(client);
    if (list.length < this.maxFailures) return 0;
    return Math.max(1, list[0]! + this.windowMs - this.now());
  }

  fail(client: string): void {
    const list = this.prune(client);
    list.push(this.now());
    this.failures.set(client, list);
    // Bound memory under a flood of distinct addresses: forget the stalest client.
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value as string);
  }

  private prune(client: string): number[] {
    const list = this.failures.get(client) ?? [];
    const cutoff = this.now() - this.windowMs;
    while (list.length > 0 && list[0]! <= cutoff) list.shift();
    if (list.length === 0) this.failures.delete(client);
    return list;
  }
}
