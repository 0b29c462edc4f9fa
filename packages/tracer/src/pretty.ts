/**
 * A small Wadler/Lindig-style pretty printer: documents of text, breaks, nesting and groups.
 * A group prints flat (breaks as their text) if the whole group fits in the remaining width,
 * otherwise its breaks become newlines at the current indentation. This is the layout
 * JAX's jaxpr printer uses, so wax's jaxprs wrap where JAX's do (width 80).
 */
export type Doc =
  | { t: "text"; s: string }
  | { t: "concat"; docs: Doc[] }
  | { t: "brk"; s: string }
  | { t: "nest"; n: number; doc: Doc }
  | { t: "group"; doc: Doc };

export const text = (s: string): Doc => ({ t: "text", s });
export const brk = (s = " "): Doc => ({ t: "brk", s });
export const nest = (n: number, doc: Doc): Doc => ({ t: "nest", n, doc });
export const group = (doc: Doc): Doc => ({ t: "group", doc });
export const concat = (...docs: Doc[]): Doc => ({ t: "concat", docs });
export const nil: Doc = { t: "concat", docs: [] };

export function join(sep: Doc, docs: Doc[]): Doc {
  const out: Doc[] = [];
  docs.forEach((d, i) => {
    if (i > 0) out.push(sep);
    out.push(d);
  });
  return { t: "concat", docs: out };
}

type Mode = 0 | 1; // 0 = flat, 1 = break

function fits(doc: Doc, width: number): boolean {
  const agenda: Doc[] = [doc];
  while (width >= 0 && agenda.length > 0) {
    const d = agenda.pop()!;
    switch (d.t) {
      case "text":
      case "brk":
        width -= d.s.length;
        break;
      case "concat":
        for (let i = d.docs.length - 1; i >= 0; i--) agenda.push(d.docs[i]!);
        break;
      case "nest":
      case "group":
        agenda.push(d.doc);
        break;
    }
  }
  return width >= 0;
}

export function format(doc: Doc, width = 80): string {
  const lines: string[] = [];
  let line = "";
  const agenda: [number, Mode, Doc][] = [[0, 1, doc]];
  while (agenda.length > 0) {
    const [i, m, d] = agenda.pop()!;
    switch (d.t) {
      case "text":
        line += d.s;
        break;
      case "concat":
        for (let j = d.docs.length - 1; j >= 0; j--) agenda.push([i, m, d.docs[j]!]);
        break;
      case "brk":
        if (m === 1) {
          lines.push(line);
          line = " ".repeat(i);
        } else line += d.s;
        break;
      case "nest":
        agenda.push([i + d.n, m, d.doc]);
        break;
      case "group":
        agenda.push([i, fits(d.doc, width - line.length) ? 0 : 1, d.doc]);
        break;
    }
  }
  lines.push(line);
  return lines.join("\n");
}
