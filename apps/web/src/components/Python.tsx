import type { ReactNode } from "react";

const KEYWORDS = new Set("False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield".split(" "));
const TOKEN = /(#[^\n]*)|("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')|\b(\d+(?:\.\d+)?(?:e[+-]?\d+)?)\b|([A-Za-z_]\w*)/g;

/** A small Python highlighter (comments, strings, numbers, keywords, defined names): programs
 * here are short, so a tokenizing regex beats shipping a full highlighter. */
export function Python({ code }: { code: string }) {
  const out: ReactNode[] = [];
  let last = 0;
  let prevDef = false;
  for (const m of code.matchAll(TOKEN)) {
    if (m.index > last) out.push(code.slice(last, m.index));
    const [text, com, str, num, word] = m;
    const k = out.length;
    if (com) out.push(<span key={k} className="py-com">{text}</span>);
    else if (str) out.push(<span key={k} className="py-str">{text}</span>);
    else if (num) out.push(<span key={k} className="py-num">{text}</span>);
    else if (word && KEYWORDS.has(word)) out.push(<span key={k} className="py-kw">{text}</span>);
    else if (word && prevDef) out.push(<span key={k} className="py-fn">{text}</span>);
    else out.push(text);
    prevDef = word === "def" || word === "class";
    last = m.index + text.length;
  }
  if (last < code.length) out.push(code.slice(last));
  return <pre className="code">{out}</pre>;
}
