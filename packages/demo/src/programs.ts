import type { Rng } from "@azr/azr";

// Program templates for the demo corpus: small deterministic Python functions over strings,
// lists and ints, each with a plain-language description (used as the proposer's plan, the
// solver's reasoning and the induction message) and an input generator. Constants and inputs are
// drawn from the corpus RNG, so a seed fixes every program and input. Every program is a single
// `def f(...)` (the reference's one-def rule) and its inputs are Python literals.

export interface ProgramInstance {
  family: string;
  snippet: string;
  /** What f does, e.g. "reverse the string". */
  description: string;
  /** One argument list for f, as a Python call-argument list of literals. */
  input(rng: Rng): string;
}

interface Family {
  name: string;
  make(rng: Rng): Omit<ProgramInstance, "family">;
}

const LETTERS = "abcdefghijklmnopqrstuvwxyz";
const SOFT = "aeioulnrst";

export function randInt(rng: Rng, lo: number, hi: number): number {
  return lo + rng.int(hi - lo + 1);
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)]!;
}

function word(rng: Rng, min = 3, max = 7, alphabet = LETTERS): string {
  let s = "";
  const n = randInt(rng, min, max);
  for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

const q = (s: string) => `'${s}'`;
const sentence = (rng: Rng, min = 2, max = 4) => Array.from({ length: randInt(rng, min, max) }, () => word(rng, 2, 5)).join(" ");
const ints = (rng: Rng, min = 3, max = 6, lo = 0, hi = 20) => `[${Array.from({ length: randInt(rng, min, max) }, () => randInt(rng, lo, hi)).join(", ")}]`;

const FAMILIES: Family[] = [
  { name: "reverse", make: () => ({ snippet: "def f(s):\n    return s[::-1]", description: "reverse the string", input: (r) => q(word(r)) }) },
  {
    name: "count-vowels",
    make: () => ({
      snippet: "def f(s):\n    n = 0\n    for c in s:\n        if c in 'aeiou':\n            n += 1\n    return n",
      description: "count the vowels in the string",
      input: (r) => q(word(r, 4, 9)),
    }),
  },
  {
    name: "sum-plus",
    make: (rng) => {
      const k = randInt(rng, 1, 9);
      return {
        snippet: `def f(xs):\n    total = ${k}\n    for x in xs:\n        total += x\n    return total`,
        description: `add ${k} to the sum of the list`,
        input: (r) => ints(r),
      };
    },
  },
  { name: "evens", make: () => ({ snippet: "def f(xs):\n    return [x for x in xs if x % 2 == 0]", description: "keep the even numbers of the list", input: (r) => ints(r, 4, 7) }) },
  {
    name: "running-max",
    make: () => ({
      snippet: "def f(xs):\n    out = []\n    m = xs[0]\n    for x in xs:\n        m = max(m, x)\n        out.append(m)\n    return out",
      description: "list the running maximum of the list",
      input: (r) => ints(r),
    }),
  },
  {
    name: "shift",
    make: (rng) => {
      const k = randInt(rng, 1, 5);
      return {
        snippet: `def f(s):\n    return ''.join(chr((ord(c) - 97 + ${k}) % 26 + 97) for c in s)`,
        description: `shift each letter ${k} places along the alphabet`,
        input: (r) => q(word(r)),
      };
    },
  },
  {
    name: "char-count",
    make: () => ({
      snippet: "def f(s):\n    d = {}\n    for c in s:\n        d[c] = d.get(c, 0) + 1\n    return d",
      description: "count how often each character occurs",
      input: (r) => q(word(r, 3, 6, SOFT)),
    }),
  },
  {
    name: "affine",
    make: (rng) => {
      const k = randInt(rng, 2, 9);
      return { snippet: `def f(a, b):\n    return a * ${k} + b`, description: `multiply the first number by ${k} and add the second`, input: (r) => `${randInt(r, 0, 20)}, ${randInt(r, 0, 20)}` };
    },
  },
  {
    name: "collatz",
    make: () => ({
      snippet: "def f(n):\n    steps = 0\n    while n != 1:\n        n = n // 2 if n % 2 == 0 else 3 * n + 1\n        steps += 1\n    return steps",
      description: "count the Collatz steps from n down to 1",
      input: (r) => String(randInt(r, 1, 40)),
    }),
  },
  { name: "digit-sum", make: () => ({ snippet: "def f(n):\n    return sum(int(d) for d in str(n))", description: "add up the digits of the number", input: (r) => String(randInt(r, 10, 99999)) }) },
  {
    name: "reverse-words",
    make: () => ({ snippet: "def f(s):\n    return ' '.join(w[::-1] for w in s.split())", description: "reverse every word of the sentence", input: (r) => q(sentence(r)) }),
  },
  {
    name: "diffs",
    make: () => ({ snippet: "def f(xs):\n    return [xs[i + 1] - xs[i] for i in range(len(xs) - 1)]", description: "list the differences of neighbouring numbers", input: (r) => ints(r) }),
  },
  {
    name: "rotate",
    make: (rng) => {
      const k = randInt(rng, 1, 4);
      return { snippet: `def f(xs):\n    k = ${k} % len(xs)\n    return xs[k:] + xs[:k]`, description: `rotate the list left by ${k}`, input: (r) => ints(r) };
    },
  },
  {
    name: "dedupe",
    make: () => ({
      snippet: "def f(xs):\n    seen = []\n    for x in xs:\n        if x not in seen:\n            seen.append(x)\n    return seen",
      description: "drop repeated numbers, keeping the first of each",
      input: (r) => ints(r, 4, 8, 0, 5),
    }),
  },
  { name: "word-lengths", make: () => ({ snippet: "def f(s):\n    return [len(w) for w in s.split()]", description: "list the length of each word", input: (r) => q(sentence(r)) }) },
  {
    name: "fib",
    make: () => ({
      snippet: "def f(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a",
      description: "give the n-th Fibonacci number",
      input: (r) => String(randInt(r, 1, 20)),
    }),
  },
  {
    name: "count-above",
    make: () => ({ snippet: "def f(xs, t):\n    return len([x for x in xs if x > t])", description: "count the numbers above the threshold", input: (r) => `${ints(r)}, ${randInt(r, 0, 15)}` }),
  },
  {
    name: "interleave",
    make: () => ({
      snippet: "def f(a, b):\n    out = ''\n    for x, y in zip(a, b):\n        out += x + y\n    return out",
      description: "interleave the letters of the two strings",
      input: (r) => `${q(word(r))}, ${q(word(r))}`,
    }),
  },
  {
    name: "prefix-sums",
    make: () => ({
      snippet: "def f(xs):\n    out = []\n    s = 0\n    for x in xs:\n        s += x\n        out.append(s)\n    return out",
      description: "list the running totals of the list",
      input: (r) => ints(r),
    }),
  },
  {
    name: "replace",
    make: (rng) => {
      const a = pick(rng, [..."aeiou"]);
      const b = pick(rng, [..."xyz"]);
      return { snippet: `def f(s):\n    return s.replace('${a}', '${b}')`, description: `replace every ${a} with ${b}`, input: (r) => q(word(r, 4, 8)) };
    },
  },
  {
    name: "argmax",
    make: () => ({
      snippet: "def f(xs):\n    best = 0\n    for i in range(len(xs)):\n        if xs[i] > xs[best]:\n            best = i\n    return best",
      description: "find the index of the largest number",
      input: (r) => ints(r),
    }),
  },
  {
    name: "balanced",
    make: () => ({
      snippet: "def f(s):\n    depth = 0\n    for c in s:\n        depth += 1 if c == '(' else -1\n        if depth < 0:\n            return False\n    return depth == 0",
      description: "check that the brackets are balanced",
      input: (r) => q(Array.from({ length: 2 * randInt(r, 1, 4) }, () => pick(r, ["(", ")"])).join("")),
    }),
  },
  {
    name: "sort-mod",
    make: (rng) => {
      const k = randInt(rng, 2, 5);
      return { snippet: `def f(xs):\n    return sorted(xs, key=lambda x: (x % ${k}, x))`, description: `sort the numbers by their remainder mod ${k}`, input: (r) => ints(r) };
    },
  },
  {
    name: "run-length",
    make: () => ({
      snippet:
        "def f(s):\n    out = []\n    for c in s:\n        if out and out[-1][0] == c:\n            out[-1][1] += 1\n        else:\n            out.append([c, 1])\n    return out",
      description: "run-length encode the string",
      input: (r) => q(word(r, 4, 7, "ab")),
    }),
  },
  {
    name: "gcd",
    make: () => ({ snippet: "def f(a, b):\n    while b:\n        a, b = b, a % b\n    return a", description: "find the greatest common divisor", input: (r) => `${randInt(r, 2, 60)}, ${randInt(r, 2, 60)}` }),
  },
  {
    name: "palindrome",
    make: () => ({
      snippet: "def f(s):\n    t = s.lower()\n    return t == t[::-1]",
      description: "check whether the string is a palindrome",
      input: (r) => {
        const w = word(r, 2, 4);
        return q(r.int(2) === 0 ? w + [...w].reverse().join("") : w + word(r, 1, 2));
      },
    }),
  },
  {
    name: "transpose",
    make: () => ({
      snippet: "def f(m):\n    return [list(r) for r in zip(*m)]",
      description: "transpose the matrix",
      input: (r) => {
        const rows = randInt(r, 2, 3);
        const cols = randInt(r, 2, 3);
        return `[${Array.from({ length: rows }, () => `[${Array.from({ length: cols }, () => randInt(r, 0, 9)).join(", ")}]`).join(", ")}]`;
      },
    }),
  },
  {
    name: "binary",
    make: (rng) => {
      const k = randInt(rng, 1, 3);
      return { snippet: `def f(n):\n    return bin(n * ${k})[2:]`, description: `write ${k} times n in binary`, input: (r) => String(randInt(r, 1, 64)) };
    },
  },
  {
    name: "starts-with",
    make: () => ({
      snippet: "def f(s, c):\n    return sum(1 for w in s.split() if w.startswith(c))",
      description: "count the words that start with the letter",
      input: (r) => `${q(sentence(r, 3, 5))}, ${q(pick(r, [..."abcdelmnst"]))}`,
    }),
  },
  {
    name: "max-min",
    make: () => ({ snippet: "def f(xs):\n    return max(xs) - min(xs)", description: "give the range of the list, largest minus smallest", input: (r) => ints(r) }),
  },
];

export const FAMILY_NAMES: readonly string[] = FAMILIES.map((f) => f.name);

/** One program of a random family, with its constants drawn from `rng`. */
export function randomProgram(rng: Rng): ProgramInstance {
  const family = pick(rng, FAMILIES);
  return { family: family.name, ...family.make(rng) };
}

/** The seed triplet's identity program (SEED_TRIPLET in @azr/azr), whose induction proposals
 * take inputs of any kind. */
export const IDENTITY: ProgramInstance = {
  family: "identity",
  snippet: "def f(a):\n    return a",
  description: "return the input unchanged",
  input: (r) => {
    switch (r.int(4)) {
      case 0:
        return q(word(r));
      case 1:
        return String(randInt(r, 0, 999));
      case 2:
        return ints(r);
      default:
        return `{${q(word(r, 1, 3))}: ${randInt(r, 0, 9)}}`;
    }
  },
};
