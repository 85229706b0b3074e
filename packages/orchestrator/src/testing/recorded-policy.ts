import type { Completion, GenerateBatch, Policy, TrainSummary } from "../policy.ts";
import { WorkerLostError } from "../run-attempt.ts";

// TEST DOUBLE. RecordedResponsesPolicy replays hand-written, realistic model outputs (valid
// proposals, malformed ones, right and wrong answers) so tests can drive the step loop through
// valid-proposal paths deterministically. A trained model's outputs cannot be produced here;
// this class exists for tests only and is never used by the server.

const fence = (lang: string, body: string) => "```" + lang + "\n" + body + "\n```";
const answer = (think: string, ...blocks: string[]) => ` ${think}</think>\n<answer>\n${blocks.join("\n")}\n</answer>`;

const PROGRAMS: { code: string; input: string }[] = [
  { code: "def f(s):\n    counts = {}\n    for ch in s:\n        if ch in 'aeiou':\n            counts[ch] = counts.get(ch, 0) + 1\n    return sorted(counts.items())", input: "'programming language'" },
  { code: "def f(s):\n    out = []\n    for i, ch in enumerate(s):\n        out.append(ch.upper() if i % 2 == 0 else ch)\n    return ''.join(out)", input: "'alternating'" },
  { code: "def f(s):\n    stack = []\n    for ch in s:\n        if stack and stack[-1] == ch:\n            stack.pop()\n        else:\n            stack.append(ch)\n    return ''.join(stack)", input: "'abbaca'" },
  { code: "def f(s):\n    words = s.split()\n    return {w: len(w) for w in words if len(w) > 2}", input: "'the quick brown fox'" },
  { code: "def f(s):\n    total = 0\n    for ch in s:\n        if ch.isdigit():\n            total = total * 10 + int(ch)\n    return total % 97", input: "'a1b2c3d4'" },
  { code: "def f(s):\n    seen = set()\n    result = []\n    for ch in reversed(s):\n        if ch not in seen:\n            seen.add(ch)\n            result.append(ch)\n    return tuple(result)", input: "'mississippi'" },
];

const INVALID_PROPOSALS = [
  // banned import
  answer("Use randomness for variety.", fence("python", "import random\ndef f(s):\n    return random.choice(s)"), fence("input", "'abc'")),
  // no answer at all: format error
  " I am not sure what to write here",
];

export class RecordedResponsesPolicy implements Policy {
  private proposals = 0;
  private inductionProposals = 0;
  private solves = 0;
  readonly trained: { rolloutId: string; advantage: number }[][] = [];
  private nextRollout = 0;

  async countTokens(texts: string[]): Promise<number[]> {
    return texts.map((t) => Buffer.byteLength(t, "utf8"));
  }

  async generate(batch: GenerateBatch): Promise<Completion[][]> {
    return batch.prompts.map((prompt) =>
      Array.from({ length: batch.n }, () => {
        const text = this.respond(prompt);
        return {
          text,
          rolloutId: batch.store ? `recorded-${this.nextRollout++}` : null,
          promptTokens: Buffer.byteLength(prompt),
          completionTokens: Buffer.byteLength(text),
          finishReason: "stop" as const,
        };
      }),
    );
  }

  async train(items: { rolloutId: string; advantage: number }[]): Promise<TrainSummary> {
    this.trained.push(items);
    return { loss: 0, gradNorm: 0, clipFraction: 0, approxKl: 0, entropy: 0, tokens: 0, tokensPerSecond: 0, optimizerSteps: 0 };
  }

  async release(): Promise<void> {}

  private respond(prompt: string): string {
    const body = prompt.slice(prompt.lastIndexOf("User: "));
    if (body.includes("## Task: write a new Python program")) {
      const i = this.proposals++;
      if (i % 7 === 5) return INVALID_PROPOSALS[(i / 7) % INVALID_PROPOSALS.length | 0]!;
      const p = PROGRAMS[i % PROGRAMS.length]!;
      // Vary the input so later rounds propose new (non-duplicate) tasks.
      const input = i < PROGRAMS.length ? p.input : `${p.input.slice(0, -1)} ${i}'`;
      return answer("Track the state through the loop.", fence("python", p.code), fence("input", input));
    }
    if (body.includes("## Task: propose")) {
      const count = Number(/propose (\d+) inputs/.exec(body)?.[1] ?? 10);
      // Vary the inputs between calls so repeated proposals for one program are new tasks.
      const j = this.inductionProposals++;
      const inputs = Array.from({ length: count }, (_, k) => fence("input", `'${"abcde".slice(0, (k % 5) + 1)}${k}${j > 0 ? `-${j}` : ""}'`));
      return answer("Strings of growing length cover the space.", ...inputs, fence("message", "Look at how each character of the string is treated."));
    }
    const i = this.solves++;
    if (body.includes("predict what the program returns")) {
      return i % 2 === 0 ? answer("It returns its input.", fence("output", "'Hello world'")) : answer("Hard to say.", fence("output", "42"));
    }
    if (body.includes("find an input")) {
      const output = /```output\n([\s\S]*?)\n```/.exec(body)?.[1] ?? "'x'";
      return answer("The identity maps the output back.", fence("input", output));
    }
    return answer("It looks like the identity.", fence("python", "def f(a):\n    return a"));
  }
}

/** TEST DOUBLE: a WorkerSession around RecordedResponsesPolicy whose "model" is a small file.
 * `failOnStep` loses the worker in that step (counted as three generate calls per step, so with
 * no seeding stage); `failOnGenerate` at that generate call of the session, whatever asks. */
export function recordedWorkerSession(policy = new RecordedResponsesPolicy(), opts: { failOnStep?: number; failOnGenerate?: number } = {}) {
  // Step numbering restarts with each session, like a relaunched worker's.
  let generateCalls = 0;
  const failing: Policy = {
    countTokens: (t) => policy.countTokens(t),
    generate: async (b) => {
      // Three generate calls per step (propose, learnability, solve).
      generateCalls++;
      if (opts.failOnStep !== undefined && Math.ceil(generateCalls / 3) === opts.failOnStep) throw new WorkerLostError("worker exited (137): killed");
      if (generateCalls === opts.failOnGenerate) throw new WorkerLostError("worker exited (137): killed");
      return policy.generate(b);
    },
    train: (i) => policy.train(i),
    release: () => policy.release(),
  };
  return {
    policy: failing,
    died: new Promise<never>(() => {}),
    saver: {
      async save(dir: string) {
        const { mkdirSync, writeFileSync } = await import("node:fs");
        mkdirSync(dir, { recursive: true });
        writeFileSync(`${dir}/recorded.json`, JSON.stringify({ trainedBatches: policy.trained.length }));
        return { bytes: 1 };
      },
    },
    loaded: [] as (string | undefined)[],
    async load(dir: string | undefined) {
      this.loaded.push(dir);
    },
    async close() {},
  };
}
