import type { WorkerClient } from "@azr/worker-client";
import type { RunConfig } from "@azr/azr";

// What the step loop needs from a policy model. The real one is a worker (WorkerPolicy); tests
// may drive the loop with RecordedResponsesPolicy (testing/recorded-policy.ts), a named double.

export interface GenerateBatch {
  prompts: string[];
  /** samples per prompt */
  n: number;
  /** keep the rollouts on the worker for `train` */
  store: boolean;
  tag: string;
  /** Decoding for this batch instead of the run config's sampling (evaluation: greedy, the
   * benchmark's token budget). */
  decoding?: { temperature: number; topP: number; maxTokens: number };
}

export interface Completion {
  text: string;
  /** null when not stored */
  rolloutId: string | null;
  promptTokens: number;
  completionTokens: number;
  finishReason: "stop" | "length";
}

export interface TrainSummary {
  loss: number;
  gradNorm: number;
  clipFraction: number;
  approxKl: number;
  entropy: number;
  tokens: number;
  tokensPerSecond: number;
  optimizerSteps: number;
}

export interface Policy {
  countTokens(texts: string[]): Promise<number[]>;
  /** completions[i][j]: sample j of prompt i */
  generate(batch: GenerateBatch): Promise<Completion[][]>;
  train(items: { rolloutId: string; advantage: number }[]): Promise<TrainSummary>;
  /** Drops stored rollouts that will not be trained on. */
  release(rolloutIds: string[]): Promise<void>;
}

/** The policy served by a worker process over the worker protocol. */
export class WorkerPolicy implements Policy {
  constructor(
    private readonly client: WorkerClient,
    private readonly config: RunConfig,
    private readonly timeoutMs = 30 * 60_000,
  ) {}

  async countTokens(texts: string[]): Promise<number[]> {
    if (texts.length === 0) return [];
    return (await this.client.countTokens({ texts }, { timeoutMs: this.timeoutMs })).counts;
  }

  async generate(batch: GenerateBatch): Promise<Completion[][]> {
    if (batch.prompts.length === 0) return [];
    const { sampling } = this.config;
    const d = batch.decoding;
    const r = await this.client.generate(
      {
        prompts: batch.prompts,
        n: batch.n,
        temperature: d ? d.temperature : sampling.temperature,
        topP: d ? d.topP : sampling.topP,
        topK: d ? -1 : sampling.topK,
        maxTokens: d ? d.maxTokens : sampling.maxResponseLength,
        tag: batch.tag,
        store: batch.store,
      },
      { timeoutMs: this.timeoutMs },
    );
    const out: Completion[][] = batch.prompts.map(() => []);
    for (const c of r.rollouts) {
      out[c.promptIndex]![c.sampleIndex] = {
        text: c.text,
        rolloutId: c.rolloutId,
        promptTokens: c.promptTokens,
        completionTokens: c.completionTokens,
        finishReason: c.finishReason,
      };
    }
    return out;
  }

  async train(items: { rolloutId: string; advantage: number }[]): Promise<TrainSummary> {
    const { optim } = this.config;
    const r = await this.client.train(
      {
        rollouts: items,
        clipLow: optim.clipRatioLow,
        clipHigh: optim.clipRatioHigh,
        dualClip: optim.dualClipC,
        klCoef: optim.klCoef,
        entropyCoef: optim.entropyCoef,
        lossAggregation: optim.lossAggMode,
        miniBatchSize: optim.miniBatchSize,
        epochs: optim.ppoEpochs,
        gradClip: optim.gradClip,
        lr: optim.lr,
      },
      { timeoutMs: this.timeoutMs },
    );
    return {
      loss: r.loss,
      gradNorm: r.gradNorm,
      clipFraction: r.clipFraction,
      approxKl: r.approxKl,
      entropy: r.entropy,
      tokens: r.tokens,
      tokensPerSecond: r.tokensPerSecond,
      optimizerSteps: r.optimizerSteps,
    };
  }

  async release(rolloutIds: string[]): Promise<void> {
    if (rolloutIds.length) await this.client.request("release", { rolloutIds }, { timeoutMs: this.timeoutMs });
  }
}
