/**
 * Network & storage: what the EC2 API made around the servers (VPCs, subnets, security groups,
 * Elastic IPs, volumes, key pairs), one region at a time as the REST API lists them, a page at a time.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import {
  api,
  type ElasticIp,
  errorText,
  type KeyPair,
  type Page,
  REGIONS,
  type SecurityGroup,
  type SecurityGroupRule,
  type Subnet,
  type Volume,
  type Vpc,
} from "./api.ts";

/** One page of each list: within every route's largest (volumes' and key pairs' is 40). */
const PAGE_SIZE = 25;
/** How often the volumes are read again: their changes do not reach the event feed. */
const VOLUME_REFRESH_MS = 15_000;
/** A server event in the region: its volumes, subnets and addresses are read again this much later, once per burst. */
const SETTLE_MS = 1_000;
/** The server's page reads at most this many pages of its region's volumes (of 40) to find its own. */
const SERVER_VOLUME_PAGES = 3;
const SERVER_VOLUME_PAGE = 40;

/** The last server event seen on the feed: its region, and a count that changes with each. */
export interface ServerEventMark {
  region: string;
  n: number;
}

const readPage = <T,>(path: string, region: string, cursor: string | null, limit = PAGE_SIZE) => {
  const query = new URLSearchParams({ region, limit: String(limit) });
  if (cursor) query.set("cursor", cursor);
  return api<Page<T>>("GET", `${path}?${query}`);
};

interface Paged<T> {
  items: T[];
  next: string | null;
  error: string | null;
  loading: boolean;
  more: () => void;
}

/**
 * One region's list: the first page, then one more per `more` (after next_cursor). A change of
 * `reload` reads again as many pages as are shown, never more than were asked for.
 */
function usePaged<T>(path: string, region: string, reload: number): Paged<T> {
  const [list, setList] = useState<Omit<Paged<T>, "more">>({
    items: [],
    next: null,
    error: null,
    loading: true,
  });
  const pages = useRef(1);
  const run = useRef(0);
  const shown = useRef("");
  useEffect(() => {
    void reload;
    const scope = `${path}?${region}`;
    const fresh = shown.current !== scope;
    if (fresh) {
      shown.current = scope;
      pages.current = 1;
    }
    const mine = ++run.current;
    setList((old) =>
      fresh ? { items: [], next: null, error: null, loading: true } : { ...old, loading: true },
    );
    void (async () => {
      const items: T[] = [];
      let cursor: string | null = null;
      let read = 0;
      try {
        do {
          const page: Page<T> = await readPage<T>(path, region, cursor);
          items.push(...page.items);
          cursor = page.next_cursor;
          read += 1;
        } while (cursor && read < pages.current);
        if (mine === run.current) setList({ items, next: cursor, error: null, loading: false });
      } catch (err) {
        if (mine === run.current) setList({ items: [], next: null, error: errorText(err), loading: false });
      }
    })();
  }, [path, region, reload]);
  const more = () => {
    const cursor = list.next;
    if (!cursor) return;
    const mine = ++run.current;
    setList((old) => ({ ...old, loading: true }));
    void (async () => {
      try {
        const page = await readPage<T>(path, region, cursor);
        if (mine !== run.current) return;
        pages.current += 1;
        setList((old) => ({
          items: [...old.items, ...page.items],
          next: page.next_cursor,
          error: null,
          loading: false,
        }));
      } catch (err) {
        if (mine === run.current) setList((old) => ({ ...old, error: errorText(err), loading: false }));
      }
    })();
  };
  return { ...list, more };
}

function ResourceTable<T>({
  id,
  title,
  noun,
  list,
  head,
  row,
  note,
}: {
  id: string;
  title: string;
  noun: string;
  list: Paged<T>;
  head: string[];
  row: (item: T) => ComponentChildren;
  note?: string;
}) {
  return (
    <section class="panel resource" aria-labelledby={`${id}-title`} data-testid={id}>
      <h3 id={`${id}-title`}>{title}</h3>
      {list.error && (
        <p role="alert" class="notice notice-error">
          Could not read the {noun}: {list.error}
        </p>
      )}
      <div class="table-wrap">
        <table aria-busy={list.loading}>
          <thead>
            <tr>
              {head.map((h) => (
                <th scope="col" key={h}>
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {list.items.map(row)}
            {!list.loading && !list.error && list.items.length === 0 && (
              <tr>
                <td colSpan={head.length} class="muted">
                  none in this region
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <p class="list-foot muted">
        {list.items.length} shown{list.next ? ", more to read" : ""}
        {note ? ` · ${note}` : ""}
        {list.next && (
          <button type="button" disabled={list.loading} onClick={list.more} aria-label={`More ${noun}`}>
            more
          </button>
        )}
      </p>
    </section>
  );
}

const nameOf = (tags: Record<string, string>) => tags.Name ?? "—";

/** `in tcp:22 from 0.0.0.0/0`, `out all to 0.0.0.0/0`. */
function ruleText(rule: SecurityGroupRule): string {
  const protocol = rule.protocol === "-1" ? "all" : rule.protocol;
  const from = rule.from_port;
  const to = rule.to_port;
  const ports =
    rule.protocol === "-1" || from === null || from === -1
      ? ""
      : to === null || to === from
        ? `:${from}`
        : `:${from}-${to}`;
  const peer = rule.cidr_ipv4 ?? rule.cidr_ipv6 ?? rule.referenced_group_id ?? "?";
  return `${rule.is_egress ? "out" : "in"} ${protocol}${ports} ${rule.is_egress ? "to" : "from"} ${peer}`;
}

/** How many of a group's rules its row spells out. */
const RULES_SHOWN = 3;

function attachmentText(volume: Volume): string {
  const a = volume.attachment;
  if (!a) return "—";
  return `${a.instance_id} ${a.device}${a.status === "attached" ? "" : ` (${a.status})`}`;
}

export function NetworkPanel({
  fleetRegion,
  serverEvent,
}: {
  /** The fleet's region filter: when it names one, this view follows it. */
  fleetRegion: string;
  serverEvent: ServerEventMark;
}) {
  const [region, setRegion] = useState(fleetRegion || (REGIONS[0] ?? "us-east-1"));
  useEffect(() => {
    if (fleetRegion) setRegion(fleetRegion);
  }, [fleetRegion]);
  const [everything, setEverything] = useState(0);
  const [volumesDue, setVolumesDue] = useState(0);
  const [serversChanged, setServersChanged] = useState(0);

  useEffect(() => {
    const timer = setInterval(() => {
      if (!document.hidden) setVolumesDue((n) => n + 1);
    }, VOLUME_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  // A server launched or ended in this region takes or gives back addresses and root volumes.
  const settling = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    if (serverEvent.n === 0 || serverEvent.region !== region || settling.current) return;
    settling.current = setTimeout(() => {
      settling.current = undefined;
      setServersChanged((n) => n + 1);
    }, SETTLE_MS);
  }, [serverEvent, region]);
  useEffect(() => () => clearTimeout(settling.current), []);

  const vpcs = usePaged<Vpc>("/vpcs", region, everything);
  const subnets = usePaged<Subnet>("/subnets", region, everything + serversChanged);
  const groups = usePaged<SecurityGroup>("/security-groups", region, everything);
  const addresses = usePaged<ElasticIp>("/addresses", region, everything + serversChanged);
  const volumes = usePaged<Volume>("/volumes", region, everything + serversChanged + volumesDue);
  const keyPairs = usePaged<KeyPair>("/key-pairs", region, everything);

  return (
    <section aria-labelledby="network-title" class="network" data-testid="network">
      <div class="panel-head">
        <h2 id="network-title">Network &amp; storage</h2>
        <form class="filters" aria-label="Network and storage region" onSubmit={(e) => e.preventDefault()}>
          <label>
            Region
            <select value={region} onChange={(e) => setRegion(e.currentTarget.value)}>
              {REGIONS.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={() => setEverything((n) => n + 1)}>
            Refresh
          </button>
        </form>
      </div>
      <p class="muted">Made through the EC2 API; listed here read-only, {PAGE_SIZE} at a time.</p>
      <div class="resources">
        <ResourceTable
          id="vpcs"
          title="VPCs"
          noun="VPCs"
          list={vpcs}
          head={["VPC", "CIDR", "Default", "Name"]}
          row={(v) => (
            <tr key={v.vpc_id} data-id={v.vpc_id}>
              <th scope="row">
                <code>{v.vpc_id}</code>
              </th>
              <td>{v.cidr_block}</td>
              <td>{v.is_default ? "yes" : "no"}</td>
              <td>{nameOf(v.tags)}</td>
            </tr>
          )}
        />
        <ResourceTable
          id="subnets"
          title="Subnets"
          noun="subnets"
          list={subnets}
          head={["Subnet", "VPC", "Zone", "CIDR", "Free"]}
          row={(s) => (
            <tr key={s.subnet_id} data-id={s.subnet_id}>
              <th scope="row">
                <code>{s.subnet_id}</code>
              </th>
              <td>
                <code>{s.vpc_id}</code>
              </td>
              <td>{s.availability_zone}</td>
              <td>{s.cidr_block}</td>
              <td class="num" data-testid="free">
                {s.available_ip_address_count}
              </td>
            </tr>
          )}
        />
        <ResourceTable
          id="security-groups"
          title="Security groups"
          noun="security groups"
          list={groups}
          head={["Group", "Name", "VPC", "Rules"]}
          row={(g) => (
            <tr key={g.group_id} data-id={g.group_id}>
              <th scope="row">
                <code>{g.group_id}</code>
              </th>
              <td>{g.group_name}</td>
              <td>
                <code>{g.vpc_id}</code>
              </td>
              <td class="rules" title={g.rules.map(ruleText).join("\n")}>
                <span data-testid="rule-count">{g.rules.length}</span>
                {g.rules.slice(0, RULES_SHOWN).map((r) => (
                  <span key={r.rule_id} class="tag">
                    {ruleText(r)}
                  </span>
                ))}
                {g.rules.length > RULES_SHOWN && (
                  <span class="muted"> +{g.rules.length - RULES_SHOWN} more</span>
                )}
              </td>
            </tr>
          )}
        />
        <ResourceTable
          id="addresses"
          title="Elastic IPs"
          noun="Elastic IPs"
          list={addresses}
          head={["Public IP", "Allocation", "Instance"]}
          row={(a) => (
            <tr key={a.allocation_id} data-id={a.allocation_id}>
              <th scope="row">{a.public_ip}</th>
              <td>
                <code>{a.allocation_id}</code>
              </td>
              <td>
                {a.instance_id ? (
                  <>
                    <code>{a.instance_id}</code> {a.private_ip_address ?? ""}
                  </>
                ) : (
                  "—"
                )}
              </td>
            </tr>
          )}
        />
        <ResourceTable
          id="volumes"
          title="Volumes"
          noun="volumes"
          list={volumes}
          head={["Volume", "Size", "Type", "State", "Attached to"]}
          note={`volume events are not on the feed: read again every ${VOLUME_REFRESH_MS / 1000} s and after a server changes here`}
          row={(v) => (
            <tr key={v.volume_id} data-id={v.volume_id} data-state={v.state}>
              <th scope="row">
                <code>{v.volume_id}</code>
              </th>
              <td class="num">{v.size_gib} GiB</td>
              <td>{v.volume_type}</td>
              <td>
                <span class={`state volume-${v.state}`}>{v.state}</span>
              </td>
              <td data-testid="attachment">{attachmentText(v)}</td>
            </tr>
          )}
        />
        <ResourceTable
          id="key-pairs"
          title="Key pairs"
          noun="key pairs"
          list={keyPairs}
          head={["Name", "Type", "Fingerprint"]}
          row={(k) => (
            <tr key={k.key_pair_id} data-id={k.key_pair_id}>
              <th scope="row">{k.key_name}</th>
              <td>{k.key_type}</td>
              <td class="fingerprint">
                <code>{k.fingerprint}</code>
              </td>
            </tr>
          )}
        />
      </div>
    </section>
  );
}

/**
 * The volumes attached to one server: the REST API lists a region's volumes unfiltered, so this
 * reads the first pages of them (oldest first, bounded) and says how many it looked through.
 */
export function ServerVolumes({
  instanceId,
  region,
  version,
}: {
  instanceId: string;
  region: string;
  version: number;
}) {
  const [found, setFound] = useState<{ items: Volume[]; read: number; more: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void version;
    let current = true;
    void (async () => {
      const items: Volume[] = [];
      let cursor: string | null = null;
      let read = 0;
      let pages = 0;
      try {
        do {
          const page: Page<Volume> = await readPage<Volume>("/volumes", region, cursor, SERVER_VOLUME_PAGE);
          read += page.items.length;
          items.push(...page.items.filter((v) => v.attachment?.instance_id === instanceId));
          cursor = page.next_cursor;
          pages += 1;
        } while (cursor && pages < SERVER_VOLUME_PAGES);
        if (!current) return;
        items.sort((a, b) => (a.attachment?.device ?? "").localeCompare(b.attachment?.device ?? ""));
        setFound({ items, read, more: cursor !== null });
        setError(null);
      } catch (err) {
        if (current) setError(errorText(err));
      }
    })();
    return () => {
      current = false;
    };
  }, [instanceId, region, version]);
  return (
    <>
      <h3>Volumes</h3>
      {error && (
        <p role="alert" class="notice notice-error">
          Could not read the volumes: {error}
        </p>
      )}
      {found && (
        <>
          <table class="ledger" data-testid="server-volumes">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Volume</th>
                <th scope="col">Size</th>
                <th scope="col">Type</th>
              </tr>
            </thead>
            <tbody>
              {found.items.map((v) => (
                <tr key={v.volume_id} data-id={v.volume_id}>
                  <td>
                    {v.attachment?.device}
                    {v.attachment?.status === "attached" ? "" : ` (${v.attachment?.status})`}
                  </td>
                  <td>
                    <code>{v.volume_id}</code>
                  </td>
                  <td class="num">{v.size_gib} GiB</td>
                  <td>{v.volume_type}</td>
                </tr>
              ))}
              {found.items.length === 0 && (
                <tr>
                  <td colSpan={4} class="muted">
                    none attached
                  </td>
                </tr>
              )}
            </tbody>
          </table>
          <p class="muted" data-testid="server-volumes-scope">
            {found.more
              ? `Looked through the first ${found.read} volumes in ${region} (oldest first); later ones are not shown here.`
              : `Looked through every volume in ${region} (${found.read}).`}
          </p>
        </>
      )}
    </>
  );
}
