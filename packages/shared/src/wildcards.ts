/**
 * An EC2 filter value as an anchored Postgres regular expression: `*` is any run of characters,
 * `?` is zero or one character (as EC2 defines it), `\` takes the next character literally, and
 * everything else matches itself.
 */
export function wildcardRegex(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\" && i + 1 < pattern.length) out += literal(pattern[++i] as string);
    else if (c === "*") out += ".*";
    else if (c === "?") out += ".?";
    else out += literal(c);
  }
  return `^${out}$`;
}

/** One character, escaped when a regular expression would read it as an operator. */
const literal = (c: string) => (/[\\^$.|?*+()[\]{}]/.test(c) ? `\\${c}` : c);
