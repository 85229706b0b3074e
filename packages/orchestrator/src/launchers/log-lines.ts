// Log plumbing shared by the launchers: a bounded buffer of lines that can be read now or
// followed, and a splitter turning byte chunks into lines.

/** The last `limit` lines of a worker, readable as a snapshot or followed until `close()`. */
export class LogLines {
  private readonly lines: string[] = [];
  /** Lines dropped from the front so far: followers keep absolute positions. */
  private dropped = 0;
  private closed = false;
  private readonly wakers = new Set<() => void>();

  constructor(private readonly limit = 2000) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.limit) {
      this.lines.shift();
      this.dropped++;
    }
    this.wake();
  }

  /** No more lines will come (the worker exited); followers finish. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  snapshot(): string[] {
    return [...this.lines];
  }

  async *read(follow: boolean): AsyncGenerator<string> {
    let next = this.dropped;
    for (;;) {
      // A slow reader that fell behind the buffer skips what was dropped.
      next = Math.max(next, this.dropped);
      while (next - this.dropped < this.lines.length) yield this.lines[next++ - this.dropped]!;
      if (!follow || this.closed) return;
      await new Promise<void>((resolve) => this.wakers.add(resolve));
    }
  }

  private wake(): void {
    for (const w of this.wakers) w();
    this.wakers.clear();
  }
}

/** Splits text chunks into lines (a partial last line is kept for the next chunk). */
export class LineSplitter {
  private rest = "";
  private readonly decoder = new TextDecoder();

  /** Returns the complete lines in `chunk`. */
  feed(chunk: Uint8Array | string): string[] {
    const text = this.rest + (typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true }));
    const parts = text.split("\n");
    this.rest = parts.pop()!;
    return parts.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  }

  /** The unterminated last line, if any. */
  end(): string[] {
    const last = this.rest + this.decoder.decode();
    this.rest = "";
    return last ? [last] : [];
  }
}
