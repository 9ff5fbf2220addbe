import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { workspaceRoot } from "@cloudsim/shared/testing";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
// The config schemas alone, not the services' entry points: this test starts nothing.
import { billingConfig } from "../../../services/billing/src/config.ts";
import { gatewayConfig } from "../../../services/gateway/src/config.ts";
import { ipamConfig } from "../../../services/ipam/src/config.ts";
import { lifecycleConfig } from "../../../services/lifecycle/src/config.ts";
import { reaperConfig } from "../../../services/reaper/src/config.ts";

/** The docs say what the code does: links land on headings, and the README lists every variable read. */
const read = (path: string) => readFileSync(join(workspaceRoot, path), "utf8");

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to dashes. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");

const anchorsIn = (markdown: string) =>
  new Set([...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((match) => anchorOf(match[1] ?? "")));

describe("links into the docs", () => {
  it("every alert's runbook link names a section of docs/runbook.md", () => {
    const anchors = anchorsIn(read("docs/runbook.md"));
    const alerts = parse(read("ops/prometheus/alerts.yml")) as {
      groups: { rules: { alert: string; annotations?: { runbook?: string } }[] }[];
    };
    const rules = alerts.groups.flatMap((group) => group.rules);
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      const link = rule.annotations?.runbook ?? "";
      expect(link, rule.alert).toMatch(/^docs\/runbook\.md#/);
      expect(anchors, `${rule.alert} → ${link}`).toContain(link.split("#")[1]);
    }
  });

  it("every `file.md#anchor` link in the README and docs/ names a heading of that file", () => {
    const files = [
      "README.md",
      "DEVELOPERS.md",
      ...readdirSync(join(workspaceRoot, "docs")).map((f) => `docs/${f}`),
    ];
    for (const file of files.filter((f) => f.endsWith(".md"))) {
      for (const [, target = "", anchor = ""] of read(file).matchAll(/\]\(([^)#\s]*\.md)?#([^)\s]+)\)/g)) {
        const linked = target === "" ? file : join(file, "..", target);
        expect(anchorsIn(read(linked)), `${file} → ${linked}#${anchor}`).toContain(anchor);
      }
    }
  });
});

/** Every file of the workspace (not dependencies, data or build output), relative to its root. */
function workspaceFiles(dir = ""): string[] {
  const skip = new Set(["node_modules", ".git", ".data", ".tools", "dist", "coverage"]);
  return readdirSync(join(workspaceRoot, dir), { withFileTypes: true }).flatMap((entry) => {
    if (skip.has(entry.name)) return [];
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    return entry.isDirectory() ? workspaceFiles(path) : [path];
  });
}

describe("files the docs name", () => {
  // Files a reader makes, not the repository.
  const yours = new Set(["docker-compose.override.yml", ".env"]);
  const files = workspaceFiles();

  it("exist: a `path.ts` is a file of the workspace, whole or as the end of a path", () => {
    const docs = ["README.md", "DEVELOPERS.md", ...files.filter((f) => /^docs\/.*\.md$/.test(f))];
    const missing: string[] = [];
    for (const doc of docs)
      for (const [, named = ""] of read(doc).matchAll(/`([\w./-]+\.(?:ts|sql|yml|sh|conf|md))`/g)) {
        if (yours.has(named) || existsSync(join(workspaceRoot, named))) continue;
        if (!files.some((file) => file.endsWith(`/${named}`))) missing.push(`${doc}: ${named}`);
      }
    expect(missing).toEqual([]);
  });
});

const services = {
  gateway: gatewayConfig,
  lifecycle: lifecycleConfig,
  ipam: ipamConfig,
  billing: billingConfig,
  reaper: reaperConfig,
};
type Service = keyof typeof services;
const everyService = Object.keys(services) as Service[];

/** Variables a service's schema validates (from a shared part) though the service never uses them. */
const parsedNotActedOn: Record<Service, string[]> = {
  gateway: [
    "EVENT_MAX_DELIVER",
    "EVENT_RETRY_DELAY",
    "EVENT_ACK_WAIT",
    "DEAD_LETTER_MAX_AGE",
    "DEAD_LETTER_MAX_BYTES",
  ],
  lifecycle: [],
  ipam: [],
  billing: [],
  // It keeps no processed_events, so it has nothing to prune.
  reaper: ["PROCESSED_EVENTS_RETENTION", "PRUNE_INTERVAL", "PRUNE_BATCH"],
};

/** Each variable a service's config schema reads, with the services that read it. */
function variablesRead(): Map<string, Service[]> {
  const readers = new Map<string, Service[]>();
  for (const service of everyService)
    for (const name of Object.keys(services[service].shape))
      readers.set(name, [...(readers.get(name) ?? []), service]);
  return readers;
}

/** The README's configuration table: each variable named in a row's first cell, with its "used by". */
function configurationTable(): Map<string, string[]> {
  const readme = read("README.md");
  const section = readme.slice(readme.indexOf("\n## Configuration"));
  const table = section.slice(0, section.indexOf("\n## ", 1));
  const rows = new Map<string, string[]>();
  for (const line of table.split("\n").filter((l) => /^\| `/.test(l))) {
    const [names = "", , usedBy = ""] = line
      .split(/(?<!\\)\|/)
      .slice(1)
      .map((cell) => cell.trim());
    const readers = usedBy.trim() === "all" ? everyService : usedBy.split(",").map((s) => s.trim());
    for (const [, name = ""] of names.matchAll(/`([A-Z0-9_]+)`/g)) rows.set(name, readers);
  }
  return rows;
}

describe("the README's configuration table", () => {
  const table = configurationTable();
  const read_ = variablesRead();

  it("lists every variable a service reads", () => {
    const missing = [...read_.keys()].filter((name) => !table.has(name));
    expect(missing, "read by a service, missing from the README").toEqual([]);
  });

  it("names the services that act on each variable", () => {
    const wrong = [...read_]
      .map(([name, readers]) => [name, readers.filter((s) => !parsedNotActedOn[s].includes(name))] as const)
      .filter(([name, readers]) => table.get(name)?.toSorted().join() !== readers.toSorted().join())
      .map(([name, readers]) => `${name}: acted on by ${readers.join(", ")}; README: ${table.get(name)}`);
    expect(wrong).toEqual([]);
  });

  it("lists no variable that nothing reads", () => {
    const runScript = read("scripts/run.ts");
    const unread = [...table].filter(([name, readers]) =>
      readers.join() === "`make run`" ? !runScript.includes(name) : !read_.has(name),
    );
    expect(unread.map(([name]) => name)).toEqual([]);
  });
});
