"""Generates bench/executor/fixtures.json: ~1,000 small deterministic programs shaped like AZR
proposals (a single `f` over strings, lists and dicts), each with 10 inputs, plus solver-style
variants (a wrong-but-close induction answer, alternative abduction inputs).

Deterministic: seeded, no dependence on the machine. Run with Debian's python3:
    /usr/bin/python3 bench/executor/make_fixtures.py
"""

import json
import os
import random

rng = random.Random(20250503)

WORDS = ["apple", "banana", "cherry", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
         "kilo", "lima", "mango", "nectar", "olive", "papaya", "quince", "rhubarb", "sierra", "tango"]


def rstr(lo=3, hi=12):
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(rng.randint(lo, hi)))


def rlist(lo=2, hi=9, a=-20, b=40):
    return [rng.randint(a, b) for _ in range(rng.randint(lo, hi))]


def rdict():
    return {rng.choice(WORDS): rng.randint(0, 50) for _ in range(rng.randint(2, 6))}


# Each template: (source with {k} parameters, parameter sampler, input sampler -> python literal text)
TEMPLATES = [
    ("def f(s):\n    return ''.join(c.upper() if i % {k} == 0 else c for i, c in enumerate(s))",
     lambda: {"k": rng.randint(2, 4)}, lambda: repr(rstr())),
    ("def f(nums):\n    out = []\n    for n in nums:\n        if n % {k} == 0:\n            out.append(n * {m})\n        else:\n            out.append(n - {m})\n    return out",
     lambda: {"k": rng.randint(2, 5), "m": rng.randint(1, 6)}, lambda: repr(rlist())),
    ("def f(d):\n    return sorted(((v + {k}) % {m}, key) for key, v in d.items())",
     lambda: {"k": rng.randint(0, 9), "m": rng.randint(5, 13)}, lambda: repr(rdict())),
    ("def f(s, n):\n    words = s.split()\n    return [w[::-1] if len(w) > n else w for w in words] + [len(words) * {k}]",
     lambda: {"k": rng.randint(1, 5)}, lambda: "%r, %d" % (" ".join(rng.sample(WORDS, rng.randint(2, 5))), rng.randint(2, 6))),
    ("def f(nums):\n    total = 0\n    best = None\n    for i, n in enumerate(nums):\n        total += n * (i + {k})\n        if best is None or n > best:\n            best = n\n    return total, best",
     lambda: {"k": rng.randint(1, 4)}, lambda: repr(rlist(1, 9))),
    ("def f(s):\n    counts = {{}}\n    for c in s:\n        counts[c] = counts.get(c, 0) + {k}\n    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:{m}]",
     lambda: {"k": rng.randint(1, 3), "m": rng.randint(2, 5)}, lambda: repr(rstr(5, 20))),
    ("def f(a, b):\n    return [x * y + {k} for x, y in zip(a, b)] + a[len(b):]",
     lambda: {"k": rng.randint(-3, 3)}, lambda: "%r, %r" % (rlist(), rlist())),
    ("def f(n):\n    seq = [{a}, {b}]\n    while len(seq) < n:\n        seq.append((seq[-1] + seq[-2]) % {m})\n    return seq[:n]",
     lambda: {"a": rng.randint(0, 3), "b": rng.randint(1, 4), "m": rng.randint(7, 100)}, lambda: repr(rng.randint(1, 25))),
    ("def f(d, key):\n    if key in d:\n        return {{k: v * {k} for k, v in d.items() if v >= d[key]}}\n    return {{key: len(d)}}",
     lambda: {"k": rng.randint(2, 4)}, lambda: "%r, %r" % (rdict(), rng.choice(WORDS))),
    ("def f(s):\n    stack = []\n    for c in s:\n        if stack and stack[-1] == c:\n            stack.pop()\n        else:\n            stack.append(c)\n    return ''.join(stack) + '{t}'",
     lambda: {"t": rng.choice(["!", "?", "#", ""])}, lambda: repr("".join(rng.choice("aabbc") for _ in range(rng.randint(4, 14))))),
    ("def f(nums, t):\n    seen = {{}}\n    for i, n in enumerate(nums):\n        if t - n in seen:\n            return (seen[t - n], i)\n        seen[n] = i\n    return ({k}, {k})",
     lambda: {"k": rng.randint(-2, 0)}, lambda: "%r, %d" % (rlist(3, 9, 0, 15), rng.randint(5, 25))),
    ("def f(words):\n    groups = {{}}\n    for w in words:\n        groups.setdefault(''.join(sorted(w))[:{k}], []).append(w)\n    return sorted(groups.values(), key=len)",
     lambda: {"k": rng.randint(1, 3)}, lambda: repr(rng.sample(WORDS, rng.randint(3, 7)))),
    ("def f(s, shift):\n    out = ''\n    for c in s:\n        if c.isalpha():\n            out += chr((ord(c) - 97 + shift * {k}) % 26 + 97)\n        else:\n            out += c\n    return out",
     lambda: {"k": rng.randint(1, 3)}, lambda: "%r, %d" % (rstr(), rng.randint(1, 10))),
    ("def f(matrix):\n    return [sum(row) * {k} for row in matrix] + [max(col) for col in zip(*matrix)]",
     lambda: {"k": rng.randint(1, 3)}, lambda: repr([[rng.randint(0, 9) for _ in range(3)] for _ in range(rng.randint(2, 4))])),
    ("def f(nums):\n    nums = sorted(set(nums))\n    runs, cur = [], [nums[0]] if nums else []\n    for n in nums[1:]:\n        if n - cur[-1] <= {k}:\n            cur.append(n)\n        else:\n            runs.append(cur)\n            cur = [n]\n    return runs + [cur]",
     lambda: {"k": rng.randint(1, 3)}, lambda: repr(rlist(2, 10, 0, 30))),
    ("def f(s):\n    vowels = set('aeiou{v}')\n    return {{'v': sum(c in vowels for c in s), 'c': sum(c.isalpha() and c not in vowels for c in s), 'w': len(s.split())}}",
     lambda: {"v": rng.choice(["y", "", "w"])}, lambda: repr(rstr(4, 20))),
    ("def f(d):\n    inv = {{}}\n    for k, v in sorted(d.items()):\n        inv.setdefault(v % {m}, []).append(k)\n    return inv",
     lambda: {"m": rng.randint(2, 7)}, lambda: repr(rdict())),
    ("def f(nums, k):\n    if k <= 0:\n        return []\n    return [max(nums[i:i + k]) + {b} for i in range(0, max(1, len(nums) - k + 1))]",
     lambda: {"b": rng.randint(0, 3)}, lambda: "%r, %d" % (rlist(3, 9), rng.randint(1, 4))),
    ("def f(s):\n    parts = s.split('{sep}')\n    return tuple(len(p) for p in parts), parts[-1].strip()",
     lambda: {"sep": rng.choice([" ", "a", "e"])}, lambda: repr(rstr(5, 18))),
    ("def f(n):\n    digits = [int(c) for c in str(n)]\n    return sum(d ** {p} for d in digits), digits[::-1]",
     lambda: {"p": rng.randint(1, 3)}, lambda: repr(rng.randint(0, 10 ** rng.randint(1, 8)))),
    ("def f(items):\n    total = {{}}\n    for name, qty in items:\n        total[name] = total.get(name, 0) + qty * {k}\n    return max(total.items(), key=lambda kv: (kv[1], kv[0])) if total else None",
     lambda: {"k": rng.randint(1, 4)}, lambda: repr([(rng.choice(WORDS[:6]), rng.randint(1, 9)) for _ in range(rng.randint(1, 6))])),
    ("def f(s, t):\n    i = 0\n    for c in t:\n        if i < len(s) and s[i] == c:\n            i += 1\n    return i == len(s), i * {k}",
     lambda: {"k": rng.randint(1, 3)}, lambda: "%r, %r" % (rstr(1, 4), rstr(5, 15))),
    ("def f(nums):\n    prefix = [0]\n    for n in nums:\n        prefix.append(prefix[-1] + n)\n    return [prefix[i + {w}] - prefix[i] for i in range(len(nums) - {w} + 1)]",
     lambda: {"w": rng.randint(1, 3)}, lambda: repr(rlist(3, 9))),
    ("def f(text):\n    words = text.lower().split()\n    freq = {{w: words.count(w) for w in set(words)}}\n    return sorted(freq, key=lambda w: (-freq[w], w))[:{k}]",
     lambda: {"k": rng.randint(1, 4)}, lambda: repr(" ".join(rng.choice(WORDS[:5]) for _ in range(rng.randint(3, 9))))),
    ("def f(a):\n    a = list(a)\n    for i in range(len(a)):\n        for j in range(len(a) - 1 - i):\n            if (a[j] % {m}, a[j]) > (a[j + 1] % {m}, a[j + 1]):\n                a[j], a[j + 1] = a[j + 1], a[j]\n    return a",
     lambda: {"m": rng.randint(2, 6)}, lambda: repr(rlist(2, 8))),
]


def main():
    programs = []
    per_template = -(-1000 // len(TEMPLATES))
    for t_index, (source, params, inputs) in enumerate(TEMPLATES):
        for _ in range(per_template):
            p = params()
            program = source.format(**p)
            ins = [inputs() for _ in range(10)]
            # An induction solver's answer: the same template with other parameters (often wrong).
            alt = source.format(**params())
            # Abduction solver attempts: the true input plus guesses.
            guesses = [inputs() for _ in range(8)]
            programs.append({"template": t_index, "program": program, "inputs": ins,
                             "solverProgram": alt, "solverInputs": guesses})
    programs = programs[:1000]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures.json")
    with open(out, "w") as fh:
        json.dump({"generator": "bench/executor/make_fixtures.py", "count": len(programs), "programs": programs}, fh, indent=0)
        fh.write("\n")
    print("wrote", out, len(programs))


if __name__ == "__main__":
    main()
