import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { workspaceRoot } from "@cloudsim/shared/testing";
import { describe, expect, it } from "vitest";

/**
 * Simulated things read one Clock (packages/shared/src/clock.ts), never the machine's (issue 20).
 * This test (it starts nothing) reads the production code of every service and of
 * packages/shared and lists each read of the machine's time: `Date.now`, `new Date` with no
 * argument, `Date()`, and in SQL text (strings and templates) now(), clock_timestamp(),
 * transaction_timestamp(), statement_timestamp(), current_timestamp, current_date and
 * localtimestamp. A read that is meant to stay on real time (a timeout, a deadline, a rate
 * limit, a metric of the process) says so with a comment on its line or the line before:
 * `// real time: <why>`. Comments are not code: a `Date.now()` in one is no read.
 */

/** clock.ts is where realClock reads the machine's clock for everyone else. */
const exempt = new Set(["packages/shared/src/clock.ts"]);

/** Production TypeScript: not tests, test helpers, migrations or build output. */
function productionFiles(): string[] {
  const roots = [
    "packages/shared/src",
    ...readdirSync(join(workspaceRoot, "services")).map((service) => `services/${service}/src`),
  ];
  const walk = (dir: string): string[] =>
    readdirSync(join(workspaceRoot, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory())
        return ["node_modules", "dist", "testing", "migrations"].includes(entry.name) ? [] : walk(path);
      return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") && !entry.name.endsWith(".d.ts")
        ? [path]
        : [];
    });
  return roots
    .filter((root) => existsSync(join(workspaceRoot, root)))
    .flatMap(walk)
    .filter((path) => !exempt.has(path))
    .sort();
}

/**
 * The source split in two of the same length, line for line: `code` with comments blanked and
 * the text of strings, templates and regular expressions replaced by `_` (their quotes kept,
 * so `new Date("…")` still has an argument), and `text` with only the text of strings and
 * templates (SQL lives there).
 */
function mask(source: string): { code: string; text: string } {
  const code: string[] = [];
  const text: string[] = [];
  const emit = (ch: string, kind: "code" | "text" | "regex" | "comment") => {
    if (ch === "\n") {
      code.push("\n");
      text.push("\n");
      return;
    }
    code.push(kind === "code" ? ch : kind === "comment" ? " " : "_");
    text.push(kind === "text" ? ch : " ");
  };
  // Each open `${` of a template: the brace depth it returns to the template at.
  const templates: number[] = [];
  let depth = 0;
  let last = ""; // the last significant character of code, to tell a regular expression from a division
  let word = ""; // the last word of code
  let i = 0;
  const n = source.length;
  /** The text of a template from i (after its backtick or a closing `}`) to its end or next `${`. */
  const templateText = () => {
    while (i < n) {
      const ch = source[i] as string;
      if (ch === "\\") {
        emit(ch, "text");
        if (i + 1 < n) emit(source[i + 1] as string, "text");
        i += 2;
      } else if (ch === "`") {
        emit(ch, "code");
        i++;
        last = "`";
        word = "";
        return;
      } else if (ch === "$" && source[i + 1] === "{") {
        emit("$", "code");
        emit("{", "code");
        i += 2;
        templates.push(depth);
        depth++;
        last = "{";
        word = "";
        return;
      } else {
        emit(ch, "text");
        i++;
      }
    }
  };
  const regexStarts = (ch: string) =>
    ch === "" ||
    "(,=:[!&|?{};+-*%<>~^".includes(ch) ||
    ["return", "typeof", "case", "do", "else", "in", "of", "void", "yield", "await", "throw"].includes(word);
  while (i < n) {
    const ch = source[i] as string;
    const next = source[i + 1];
    if (ch === "/" && next === "/") {
      while (i < n && source[i] !== "\n") emit(source[i++] as string, "comment");
    } else if (ch === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end < 0 ? n : end + 2;
      while (i < stop) emit(source[i++] as string, "comment");
    } else if (ch === "'" || ch === '"') {
      emit(ch, "code");
      i++;
      while (i < n && source[i] !== ch && source[i] !== "\n") {
        if (source[i] === "\\" && i + 1 < n) emit(source[i++] as string, "text");
        emit(source[i++] as string, "text");
      }
      if (i < n && source[i] === ch) emit(source[i++] as string, "code");
      last = ch;
      word = "";
    } else if (ch === "`") {
      emit(ch, "code");
      i++;
      templateText();
    } else if (ch === "/" && regexStarts(last)) {
      emit(ch, "code");
      i++;
      let inClass = false;
      while (i < n && source[i] !== "\n") {
        const c = source[i] as string;
        if (c === "\\" && i + 1 < n) {
          emit(source[i++] as string, "regex");
          emit(source[i++] as string, "regex");
          continue;
        }
        if (c === "/" && !inClass) break;
        if (c === "[") inClass = true;
        else if (c === "]") inClass = false;
        emit(source[i++] as string, "regex");
      }
      if (i < n && source[i] === "/") emit(source[i++] as string, "code");
      last = "/";
      word = "";
    } else if (ch === "}" && templates.length > 0 && depth - 1 === templates[templates.length - 1]) {
      templates.pop();
      depth--;
      emit(ch, "code");
      i++;
      templateText();
    } else {
      if (ch === "{") depth++;
      else if (ch === "}") depth--;
      emit(ch, "code");
      i++;
      if (/[A-Za-z0-9_$]/.test(ch)) {
        word = /[A-Za-z0-9_$]/.test(last) ? word + ch : ch;
        last = ch;
      } else if (!/\s/.test(ch)) {
        last = ch;
        word = "";
      }
    }
  }
  return { code: code.join(""), text: text.join("") };
}

/** Reads of the machine's clock in code, and of Postgres' in SQL text. */
const codeReads = [
  /(?<![\w$])Date\s*\.\s*now\b/g,
  /(?<![\w$])new\s+Date\b(?!\s*\(\s*[^\s)])/g,
  /(?<![\w$.]|new\s+)Date\s*\(/g,
];
const sqlReads = [
  /(?<![\w$.])(?:now|clock_timestamp|transaction_timestamp|statement_timestamp)\s*\(\s*\)/gi,
  /(?<![\w$.])(?:current_timestamp|current_date|localtimestamp)(?![\w$])/gi,
];

const MARKER = /\/\/\s*real time:\s*\S/;

/**
 * Every read of real time in `source` (its line, and whether a marker on that line or the one
 * before says why), and the lines of markers that mark no read.
 */
function clockReads(source: string) {
  const { code, text } = mask(source);
  const lines = source.split("\n");
  const codeLines = code.split("\n");
  // A marker is a comment: its `//` is blank in the code.
  const markers = lines.flatMap((line, i) => {
    const at = MARKER.exec(line)?.index;
    return at !== undefined && codeLines[i]?.[at] === " " ? [i + 1] : [];
  });
  const lineOf = (offset: number) => source.slice(0, offset).split("\n").length;
  const reads: { line: number; read: string; marked: boolean }[] = [];
  const scan = (masked: string, patterns: RegExp[]) => {
    for (const pattern of patterns)
      for (const match of masked.matchAll(pattern)) {
        const line = lineOf(match.index);
        const marked = markers.includes(line) || markers.includes(line - 1);
        reads.push({ line, read: match[0].replace(/\s+/g, " "), marked });
      }
  };
  scan(code, codeReads);
  scan(text, sqlReads);
  reads.sort((a, b) => a.line - b.line);
  const strayMarkers = markers.filter((m) => !reads.some((r) => r.line === m || r.line === m + 1));
  return { reads, strayMarkers };
}

/** Every unmarked read of real time in `source`, as `line: what`. */
const unmarkedReads = (source: string) =>
  clockReads(source)
    .reads.filter((r) => !r.marked)
    .map(({ line, read }) => ({ line, read }));

describe("the guard itself", () => {
  it("finds each kind of read, in code and in SQL, and none in comments or with an argument", () => {
    const sample = [
      "const a = Date.now();", // 1
      "const b = new Date();", // 2
      "const c = new Date;", // 3
      "const d = String(Date());", // 4
      "const e = sql`UPDATE t SET at = now() WHERE x = #{a}`;", // 5
      "const f = `SELECT #{a}, clock_timestamp(), CURRENT_TIMESTAMP`;", // 6
      "const g = 'SELECT transaction_timestamp()';", // 7
      "// Date.now() in a comment, and now() too", // 8
      "/* new Date() */ const h = new Date(a);", // 9
      'const i = new Date("2026-01-01T00:00:00Z");', // 10
      "const j = clock.now() + x.now();", // 11
      "const k = /now\\(\\)/.test(s) ? a / 2 : `#{`now()`}`;", // 12
      "const l = { now: Date.now };", // 13
      "const m = Date.parse(s) + Date.UTC(2026, 0);", // 14
      "// real time: a timeout", // 15
      "const n = Date.now();", // 16
      "const o = Date.now(); // real time: a deadline", // 17
    ]
      .join("\n")
      // Template substitutions, written #{ so the strings above are not taken for templates.
      .replaceAll("#{", "$" + "{");
    expect(unmarkedReads(sample)).toEqual([
      { line: 1, read: "Date.now" },
      { line: 2, read: "new Date" },
      { line: 3, read: "new Date" },
      { line: 4, read: "Date(" },
      { line: 5, read: "now()" },
      { line: 6, read: "clock_timestamp()" },
      { line: 6, read: "CURRENT_TIMESTAMP" },
      { line: 7, read: "transaction_timestamp()" },
      { line: 12, read: "now()" },
      { line: 13, read: "Date.now" },
    ]);
    expect(clockReads(sample).strayMarkers).toEqual([]);
    expect(
      clockReads("// real time: nothing\nconst a = 1;\nconst s = '// real time: no comment';").strayMarkers,
    ).toEqual([1]);
  });

  it("reads the services and packages/shared", () => {
    const files = productionFiles();
    expect(files).toContain("packages/shared/src/prune.ts");
    for (const service of ["gateway", "lifecycle", "ipam", "billing", "reaper"])
      expect(files).toContain(`services/${service}/src/service.ts`);
  });
});

describe("time of simulated things", () => {
  it("no production code reads the machine's or Postgres' clock unless it says why (// real time: <why>)", () => {
    const unmarked = productionFiles().flatMap((path) =>
      unmarkedReads(readFileSync(join(workspaceRoot, path), "utf8")).map(
        ({ line, read }) => `${path}:${line}: ${read}`,
      ),
    );
    expect(
      unmarked,
      "read the service's Clock (runtime.clock; clockDate(clock) as an SQL parameter), or mark a real wait with // real time: <why>",
    ).toEqual([]);
  });

  it("every // real time: marker marks a read on its line or the next", () => {
    const stray = productionFiles().flatMap((path) =>
      clockReads(readFileSync(join(workspaceRoot, path), "utf8")).strayMarkers.map(
        (line) => `${path}:${line}`,
      ),
    );
    expect(stray, "a marker that marks nothing: move it beside its read, or remove it").toEqual([]);
  });
});
