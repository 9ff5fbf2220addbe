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

/**
 * Whether an item passes every filter (AND) with any of each one's values (OR), with `*` and
 * `?` wildcards; `fields` gives an item's values under each filter name (a list: any of them).
 */
export function matchesFilters(
  filters: readonly { name: string; values: readonly string[] }[],
  fields: Record<string, string | readonly string[] | undefined>,
): boolean {
  return filters.every(({ name, values }) => {
    const field = Object.hasOwn(fields, name) ? fields[name] : undefined;
    const candidates = field === undefined ? [] : typeof field === "string" ? [field] : field;
    const patterns = values.map((value) => new RegExp(wildcardRegex(value), "su"));
    return candidates.some((candidate) => patterns.some((pattern) => pattern.test(candidate)));
  });
}

/** `fields` with a resource's tags under `tag-key` and `tag:<key>`, as EC2's tag filters read them. */
export function withTagFields(
  fields: Record<string, string | readonly string[] | undefined>,
  tags: Record<string, string>,
): Record<string, string | readonly string[] | undefined> {
  const tagged: Record<string, string | readonly string[] | undefined> = {
    ...fields,
    "tag-key": Object.keys(tags),
  };
  for (const [key, value] of Object.entries(tags)) tagged[`tag:${key}`] = value;
  return tagged;
}
