import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  ApiError,
  api,
  BILLABLE,
  type ClockNow,
  errorText,
  type Ledger,
  type LogEntry,
  type Page,
  type Pool,
  REGIONS,
  type ReaperStatus,
  type Server,
  STATES,
  type State,
  storedKey,
  storeKey,
  TYPES,
} from "./api.ts";
import { NetworkPanel, type ServerEventMark, ServerVolumes } from "./network.tsx";
import { type FeedEvent, type FeedStatus, followFeed } from "./sse.ts";

/** A server as the page holds it: when it was last read, so its uptime and bill can tick locally. */
interface Row extends Server {
  readAt: number;
}

interface Filters {
  region: string;
  state: string;
  tag: string;
}

interface Notice {
  kind: "ok" | "error";
  text: string;
  at: number;
}

interface Transition {
  key: string;
  at: string;
  from: string | null;
  to: string;
  actor: string;
}

const enc = encodeURIComponent;

/** "env=dev, team=core" → {env: "dev", team: "core"}. */
function parseTags(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const part of text.split(",")) {
    const trimmed = part.trim();
    if (!trimmed) continue;
    const eq = trimmed.indexOf("=");
    if (eq < 0) tags[trimmed] = "";
    else tags[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1).trim();
  }
  return tags;
}

function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m ${rest}s`;
  if (m > 0) return `${m}m ${rest}s`;
  return `${rest}s`;
}

const time = (iso: string) => new Date(iso).toLocaleTimeString();

/** Which actions the state machine allows (the API still decides; its 409 is shown as it is). */
const allowed: Record<string, State[]> = {
  start: ["stopped"],
  stop: ["running"],
  reboot: ["running"],
  terminate: ["provisioning", "running", "starting", "rebooting", "stopping", "stopped", "error"],
};

function matches(server: Server, filters: Filters): boolean {
  if (filters.region && server.region !== filters.region) return false;
  if (filters.state) {
    if (server.state !== filters.state) return false;
  } else if (server.state === "terminated") return false;
  if (filters.tag) {
    const colon = filters.tag.indexOf(":");
    const key = colon < 0 ? filters.tag : filters.tag.slice(0, colon);
    const value = colon < 0 ? undefined : filters.tag.slice(colon + 1);
    if (!(key in server.tags) || (value !== undefined && server.tags[key] !== value)) return false;
  }
  return true;
}

export function App() {
  const [key, setKey] = useState(storedKey());
  const [keyDraft, setKeyDraft] = useState(storedKey());
  const [rows, setRows] = useState<Map<string, Row>>(new Map());
  const [fleetError, setFleetError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [filters, setFilters] = useState<Filters>({ region: "", state: "", tag: "" });
  const [notices, setNotices] = useState<Notice[]>([]);
  const [feed, setFeed] = useState<FeedStatus>({ state: "connecting" });
  const [selected, setSelected] = useState<string | null>(null);
  const [transitions, setTransitions] = useState<Transition[]>([]);
  const [pools, setPools] = useState<Pool[] | null>(null);
  const [reaper, setReaper] = useState<ReaperStatus | null>(null);
  const [clock, setClock] = useState<(ClockNow & { readAt: number }) | null>(null);
  const [now, setNow] = useState(Date.now());
  const [detailVersion, setDetailVersion] = useState(0);
  const [tagDraft, setTagDraft] = useState("");
  const [serverEvent, setServerEvent] = useState<ServerEventMark>({ region: "", n: 0 });
  /** The tag filter applies on Enter or when the field loses focus, not at every key. */
  const applyTag = () => {
    if (tagDraft.trim() !== filters.tag) setFilters({ ...filters, tag: tagDraft.trim() });
  };
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const selectedRef = useRef(selected);
  selectedRef.current = selected;

  const notify = useCallback((kind: Notice["kind"], text: string) => {
    setNotices((list) => [{ kind, text, at: Date.now() }, ...list].slice(0, 3));
  }, []);

  // The clock of the page: uptimes and bills tick once a second.
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  const upsert = useCallback((server: Server) => {
    setRows((old) => {
      const next = new Map(old);
      if (matches(server, filtersRef.current)) {
        const before = old.get(server.id);
        // A list item has no bill: keep the one read before.
        next.set(server.id, {
          ...server,
          billing: server.billing !== undefined ? server.billing : before?.billing,
          readAt: Date.now(),
        });
      } else next.delete(server.id);
      return next;
    });
  }, []);

  /** Reads one server again (its bill, uptime, address) after something happened to it. */
  const refresh = useCallback(
    async (id: string) => {
      try {
        upsert(await api<Server>("GET", `/servers/${enc(id)}`));
      } catch (err) {
        if (err instanceof ApiError && err.status === 404)
          setRows((old) => {
            const next = new Map(old);
            next.delete(id);
            return next;
          });
      }
    },
    [upsert],
  );

  const loadPools = useCallback(async () => {
    try {
      setPools((await api<{ items: Pool[] }>("GET", "/ipam/pools")).items);
    } catch {
      setPools(null);
    }
  }, []);
  const loadReaper = useCallback(async () => {
    try {
      setReaper(await api<ReaperStatus>("GET", "/reaper/status"));
    } catch {
      setReaper(null);
    }
  }, []);
  const loadClock = useCallback(async () => {
    try {
      setClock({ ...(await api<ClockNow>("GET", "/clock")), readAt: Date.now() });
    } catch {
      setClock(null);
    }
  }, []);

  // The fleet: every page of GET /servers with the filters, then each server's bill.
  const loadFleet = useCallback(async () => {
    setLoading(true);
    setFleetError(null);
    const query = new URLSearchParams({ limit: "100" });
    if (filters.region) query.set("region", filters.region);
    if (filters.state) query.set("state", filters.state);
    // key:value is the API's filter; a key alone (any value) is filtered here.
    if (filters.tag.includes(":")) query.set("tag", filters.tag);
    const servers: Server[] = [];
    try {
      let cursor: string | null = null;
      do {
        if (cursor) query.set("cursor", cursor);
        const page: Page<Server> = await api<Page<Server>>("GET", `/servers?${query}`);
        servers.push(...page.items);
        cursor = page.next_cursor;
      } while (cursor && servers.length < 1000);
    } catch (err) {
      setFleetError(errorText(err));
      setRows(new Map());
      setLoading(false);
      return;
    }
    const readAt = Date.now();
    const shown = servers.filter((s) => matches(s, filters));
    setRows(new Map(shown.map((s) => [s.id, { ...s, readAt }])));
    setLoading(false);
    // Bills, a few at a time (a list item has none).
    const queue = shown.filter((s) => s.state !== "terminated").map((s) => s.id);
    const worker = async () => {
      for (let id = queue.shift(); id; id = queue.shift()) await refresh(id);
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }, [filters, refresh]);

  useEffect(() => {
    void loadFleet();
  }, [loadFleet, key]);
  useEffect(() => {
    void loadPools();
    void loadReaper();
    void loadClock();
  }, [loadPools, loadReaper, loadClock, key]);

  // The clock again every 10 s (another client may move a simulated clock), and 2 s after a read
  // that failed (a busy gateway), so the clock panel does not stay away.
  const clockKnown = clock !== null;
  useEffect(() => {
    const timer = setInterval(() => void loadClock(), clockKnown ? 10_000 : 2_000);
    return () => clearInterval(timer);
  }, [loadClock, clockKnown]);

  // The event feed, again whenever the key changes.
  const onEvent = useCallback(
    (event: FeedEvent) => {
      const serverId = typeof event.server_id === "string" ? event.server_id : undefined;
      if (event.type === "server.state_changed" && serverId) {
        const info = (event.server ?? {}) as Partial<Server>;
        const to = String(event.to_state) as State;
        setServerEvent((mark) => ({ region: info.region ?? "", n: mark.n + 1 }));
        setRows((old) => {
          const before = old.get(serverId);
          const next = new Map(old);
          const merged: Row = before
            ? { ...before, state: to, readAt: Date.now() }
            : ({
                id: serverId,
                instance_id: "",
                name: serverId.slice(0, 8),
                region: info.region ?? "",
                type: info.type ?? "",
                state: to,
                ip_address: info.ip_address ?? null,
                tags: info.tags ?? {},
                created_at: String(event.occurred_at),
                updated_at: String(event.occurred_at),
                running_since: null,
                uptime_seconds: 0,
                readAt: Date.now(),
              } as Row);
          if (info.ip_address !== undefined) merged.ip_address = info.ip_address;
          if (matches(merged, filtersRef.current)) next.set(serverId, merged);
          else next.delete(serverId);
          return next;
        });
        if (selectedRef.current === serverId)
          setTransitions((list) => [
            {
              key: String(event.id ?? `${serverId}-${Date.now()}`),
              at: String(event.occurred_at ?? new Date().toISOString()),
              from: (event.from_state as string | null) ?? null,
              to,
              actor: String(event.actor ?? ""),
            },
            ...list,
          ]);
        void refresh(serverId);
        if (to === "running" || to === "terminated" || to === "error") void loadPools();
        if (to === "terminated" || to === "stopped") void loadReaper();
      } else if (event.type === "ipam.released") {
        void loadPools();
      } else if ((event.type === "billing.started" || event.type === "billing.stopped") && serverId) {
        void refresh(serverId);
      } else if (event.type === "feed.skipped") {
        notify("error", "the event feed skipped events: the fleet was read again");
        void loadFleet();
      } else if (event.type === "feed.closed") {
        notify("error", `the event feed closed: ${String(event.message ?? event.reason ?? "")}`);
      }
      if (serverId && selectedRef.current === serverId) setDetailVersion((v) => v + 1);
    },
    [refresh, loadPools, loadReaper, loadFleet, notify],
  );
  const loadFleetRef = useRef(loadFleet);
  loadFleetRef.current = loadFleet;
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;
  useEffect(() => {
    const abort = new AbortController();
    let first = true;
    void followFeed(
      abort.signal,
      (event) => onEventRef.current(event),
      (status) => {
        setFeed(status);
        // After a reconnect, the fleet is read again in case Last-Event-ID could not cover the gap.
        if (status.state === "live" && !first) void loadFleetRef.current();
        if (status.state === "live") first = false;
      },
    );
    return () => abort.abort();
  }, [key]);
  const act = async (server: Row, action: string) => {
    try {
      const result =
        action === "terminate"
          ? await api<Server>("DELETE", `/servers/${enc(server.id)}`)
          : await api<Server>("POST", `/servers/${enc(server.id)}/action`, { action });
      upsert(result);
      notify("ok", `${action} ${server.name}: now ${result.state}`);
    } catch (err) {
      notify("error", `${action} ${server.name}: ${errorText(err)}`);
    }
  };

  const saveKey = (event: Event) => {
    event.preventDefault();
    storeKey(keyDraft.trim());
    setKey(keyDraft.trim());
    notify("ok", keyDraft.trim() ? "API key set for this tab" : "API key cleared");
  };

  const list = useMemo(
    () =>
      [...rows.values()].sort((a, b) =>
        a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id.localeCompare(b.id),
      ),
    [rows],
  );
  const counts = useMemo(() => {
    const by: Partial<Record<State, number>> = {};
    for (const row of list) by[row.state] = (by[row.state] ?? 0) + 1;
    return by;
  }, [list]);
  const selectedRow = selected ? rows.get(selected) : undefined;

  return (
    <div class="page">
      <header class="top">
        <h1>cloudsim console</h1>
        <form class="key" onSubmit={saveKey} aria-label="Authentication">
          <label for="api-key">API key</label>
          <input
            id="api-key"
            type="password"
            autocomplete="off"
            placeholder="csk_… (when the gateway requires one)"
            value={keyDraft}
            onInput={(e) => setKeyDraft(e.currentTarget.value)}
          />
          <button type="submit">Use key</button>
          <span class="hint">kept in this tab's session storage only</span>
        </form>
        <p class={`feed feed-${feed.state}`} data-testid="feed-status">
          Events:{" "}
          {feed.state === "live"
            ? "live"
            : feed.state === "connecting"
              ? "connecting…"
              : `${feed.message} — retrying in ${feed.retryInSeconds}s`}
        </p>
      </header>

      <div role="status" aria-live="polite" class="notices" data-testid="notices">
        {notices.map((n) => (
          <p key={n.at + n.text} class={`notice notice-${n.kind}`}>
            {n.text}
          </p>
        ))}
      </div>

      <main class="grid">
        <section aria-labelledby="fleet-title" class="panel fleet">
          <h2 id="fleet-title">Fleet</h2>
          <ProvisionForm notify={notify} onCreated={upsert} />
          <form
            class="filters"
            aria-label="Filter the fleet"
            onSubmit={(e) => {
              e.preventDefault();
              applyTag();
            }}
          >
            <label>
              Region
              <select
                value={filters.region}
                onChange={(e) => setFilters({ ...filters, region: e.currentTarget.value })}
              >
                <option value="">all</option>
                {REGIONS.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            </label>
            <label>
              State
              <select
                value={filters.state}
                onChange={(e) => setFilters({ ...filters, state: e.currentTarget.value })}
              >
                <option value="">all but terminated</option>
                {STATES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Tag
              <input
                placeholder="key or key:value"
                value={tagDraft}
                onInput={(e) => setTagDraft(e.currentTarget.value)}
                onBlur={applyTag}
              />
            </label>
          </form>
          <ul class="counts" aria-label="Servers by state">
            {STATES.filter((s) => counts[s]).map((s) => (
              <li key={s}>
                <span class={`state state-${s}`}>{s}</span> {counts[s]}
              </li>
            ))}
            {list.length === 0 && !loading && <li>no servers</li>}
          </ul>
          {fleetError && (
            <p role="alert" class="notice notice-error">
              Could not read the fleet: {fleetError}
            </p>
          )}
          <div class="table-wrap">
            <table class="servers" aria-busy={loading}>
              <caption class="sr-only">Servers, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">State</th>
                  <th scope="col">Region</th>
                  <th scope="col">Type</th>
                  <th scope="col">Address</th>
                  <th scope="col">Tags</th>
                  <th scope="col">Uptime</th>
                  <th scope="col">Bill</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {list.map((row) => (
                  <ServerRow
                    key={row.id}
                    row={row}
                    now={now}
                    clockRate={clock?.mode === "simulated" ? clock.rate : 1}
                    selected={row.id === selected}
                    onSelect={() => {
                      setSelected(row.id);
                      setTransitions([]);
                    }}
                    onAction={(action) => act(row, action)}
                  />
                ))}
              </tbody>
            </table>
          </div>
        </section>

        <aside class="side">
          {selected && (
            <ServerDetail
              id={selected}
              row={selectedRow}
              transitions={transitions}
              version={detailVersion}
              onClose={() => setSelected(null)}
            />
          )}
          <PoolsPanel pools={pools} onRefresh={loadPools} />
          <ReaperPanel status={reaper} onRefresh={loadReaper} />
          <ClockPanel clock={clock} now={now} notify={notify} onChanged={loadClock} />
        </aside>

        <NetworkPanel key={key} fleetRegion={filters.region} serverEvent={serverEvent} />
      </main>
    </div>
  );
}

function ProvisionForm({
  notify,
  onCreated,
}: {
  notify: (kind: Notice["kind"], text: string) => void;
  onCreated: (server: Server) => void;
}) {
  const [region, setRegion] = useState(REGIONS[0] ?? "us-east-1");
  const [type, setType] = useState("t2.micro");
  const [tags, setTags] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const server = await api<Server>("POST", "/servers", { region, type, tags: parseTags(tags) });
      onCreated(server);
      notify("ok", `provisioned ${server.name} in ${server.region}: ${server.state}`);
    } catch (err) {
      notify("error", `provision: ${errorText(err)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="provision" onSubmit={submit} aria-label="Provision a server">
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
      <label>
        Type
        <select value={type} onChange={(e) => setType(e.currentTarget.value)}>
          {TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </label>
      <label>
        Tags
        <input
          placeholder="env=dev, team=core"
          value={tags}
          onInput={(e) => setTags(e.currentTarget.value)}
        />
      </label>
      <button type="submit" disabled={busy}>
        {busy ? "Provisioning…" : "Provision"}
      </button>
    </form>
  );
}

/** The bill now: the amount read, plus what the open interval has added since, at the type's rate. */
function billNow(row: Row, now: number, clockRate: number): string | null {
  const bill = row.billing;
  if (!bill) return null;
  let amount = Number(bill.amount);
  if (BILLABLE.includes(row.state) && bill.rate)
    amount += (Number(bill.rate) / 60) * (Math.max(0, now - row.readAt) / 1000) * clockRate;
  return `${amount.toFixed(6)} ${bill.currency}`;
}

function ServerRow({
  row,
  now,
  clockRate,
  selected,
  onSelect,
  onAction,
}: {
  row: Row;
  now: number;
  clockRate: number;
  selected: boolean;
  onSelect: () => void;
  onAction: (action: string) => void;
}) {
  const uptime =
    row.state === "running" ? row.uptime_seconds + ((now - row.readAt) / 1000) * clockRate : null;
  const bill = billNow(row, now, clockRate);
  return (
    <tr data-server-id={row.id} data-state={row.state} class={selected ? "selected" : undefined}>
      <th scope="row">
        <button type="button" class="link" onClick={onSelect} aria-pressed={selected}>
          {row.name}
        </button>
      </th>
      <td>
        <span class={`state state-${row.state}`} data-testid="state">
          {row.state}
        </span>
      </td>
      <td>{row.region}</td>
      <td>{row.type}</td>
      <td>{row.ip_address ?? "—"}</td>
      <td class="tags">
        {Object.entries(row.tags).map(([k, v]) => (
          <span key={k} class="tag">
            {v ? `${k}=${v}` : k}
          </span>
        ))}
      </td>
      <td>{uptime === null ? "—" : duration(uptime)}</td>
      <td class="num" data-testid="bill">
        {bill ?? "—"}
      </td>
      <td class="actions">
        {(["start", "stop", "reboot", "terminate"] as const).map((action) => (
          <button
            key={action}
            type="button"
            class={action === "terminate" ? "danger" : undefined}
            aria-label={`${action} ${row.name}`}
            title={allowed[action]?.includes(row.state) ? undefined : `not allowed while ${row.state}`}
            onClick={() => onAction(action)}
          >
            {action}
          </button>
        ))}
      </td>
    </tr>
  );
}

function ServerDetail({
  id,
  row,
  transitions,
  version,
  onClose,
}: {
  id: string;
  row: Row | undefined;
  transitions: Transition[];
  version: number;
  onClose: () => void;
}) {
  const [logs, setLogs] = useState<LogEntry[] | null>(null);
  const [ledger, setLedger] = useState<Ledger | null>(null);
  const [error, setError] = useState<string | null>(null);
  // `version` changes when an event about this server arrives: its log and ledger are read again.
  useEffect(() => {
    void version;
    let current = true;
    (async () => {
      try {
        const [log, bill] = await Promise.all([
          api<Page<LogEntry>>("GET", `/servers/${enc(id)}/logs?limit=100`),
          api<Ledger>("GET", `/servers/${enc(id)}/billing?limit=100`),
        ]);
        if (!current) return;
        setLogs(log.items);
        setLedger(bill);
        setError(null);
      } catch (err) {
        if (current) setError(errorText(err));
      }
    })();
    return () => {
      current = false;
    };
  }, [id, version]);
  return (
    <section class="panel detail" aria-labelledby="detail-title" data-testid="server-detail">
      <div class="panel-head">
        <h2 id="detail-title">{row?.name ?? id}</h2>
        <button type="button" onClick={onClose} aria-label="Close the server's details">
          Close
        </button>
      </div>
      <p class="muted">
        {id}
        {row ? ` · ${row.region} · ${row.type} · ${row.state}` : ""}
      </p>
      {error && (
        <p role="alert" class="notice notice-error">
          {error}
        </p>
      )}
      <h3>State transitions (live)</h3>
      {transitions.length === 0 ? (
        <p class="muted">none since you opened it</p>
      ) : (
        <ol class="transitions" aria-live="polite">
          {transitions.map((t) => (
            <li key={t.key}>
              <time dateTime={t.at}>{time(t.at)}</time> {t.from ?? "—"} → <strong>{t.to}</strong>{" "}
              <span class="muted">({t.actor})</span>
            </li>
          ))}
        </ol>
      )}
      <h3>Log</h3>
      <ol class="timeline">
        {(logs ?? []).map((entry) => (
          <li key={entry.id}>
            <time dateTime={entry.at}>{time(entry.at)}</time> <code>{entry.type}</code> {entry.message}{" "}
            <span class="muted">({entry.actor})</span>
          </li>
        ))}
        {logs?.length === 0 && <li class="muted">no entries</li>}
      </ol>
      <h3>Ledger</h3>
      {ledger && (
        <>
          <p>
            Total <strong data-testid="ledger-total">{ledger.amount}</strong> {ledger.currency} for{" "}
            {duration(ledger.billable_seconds)} billed
          </p>
          <table class="ledger">
            <thead>
              <tr>
                <th scope="col">At</th>
                <th scope="col">Kind</th>
                <th scope="col">Seconds</th>
                <th scope="col">Amount</th>
              </tr>
            </thead>
            <tbody>
              {ledger.items.map((line) => (
                <tr key={line.id}>
                  <td>{time(line.at)}</td>
                  <td>{line.kind}</td>
                  <td class="num">{line.billable_seconds.toFixed(3)}</td>
                  <td class="num">{line.amount}</td>
                </tr>
              ))}
              {ledger.items.length === 0 && (
                <tr>
                  <td colSpan={4} class="muted">
                    no lines yet
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </>
      )}
      {row?.instance_id && (
        <ServerVolumes instanceId={row.instance_id} region={row.region} version={version} />
      )}
    </section>
  );
}

function PoolsPanel({ pools, onRefresh }: { pools: Pool[] | null; onRefresh: () => void }) {
  return (
    <section class="panel" aria-labelledby="pools-title">
      <div class="panel-head">
        <h2 id="pools-title">Address pools</h2>
        <button type="button" onClick={onRefresh}>
          Refresh
        </button>
      </div>
      {pools === null ? (
        <p class="muted">not available</p>
      ) : (
        <table class="pools">
          <thead>
            <tr>
              <th scope="col">Region</th>
              <th scope="col">CIDR</th>
              <th scope="col">Used</th>
              <th scope="col">Cooling</th>
              <th scope="col">Free</th>
            </tr>
          </thead>
          <tbody>
            {pools.map((p) => (
              <tr key={p.region} data-region={p.region}>
                <th scope="row">{p.region}</th>
                <td>{p.cidr}</td>
                <td class="num">
                  {p.used}
                  <meter min={0} max={p.size} value={p.used} aria-label={`${p.region} pool used`} />
                </td>
                <td class="num">{p.cooling_down}</td>
                <td class="num" data-testid="free">
                  {p.free}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function ReaperPanel({ status, onRefresh }: { status: ReaperStatus | null; onRefresh: () => void }) {
  const sweep = status?.last_sweep;
  return (
    <section class="panel" aria-labelledby="reaper-title">
      <div class="panel-head">
        <h2 id="reaper-title">Idle reaper</h2>
        <button type="button" onClick={onRefresh}>
          Refresh
        </button>
      </div>
      {!status ? (
        <p class="muted">not available</p>
      ) : (
        <dl class="facts">
          <dt>Idle timeout</dt>
          <dd>
            {duration(status.idle_timeout_seconds)}
            {status.dry_run ? " (dry run)" : ""}
          </dd>
          <dt>Last sweep</dt>
          <dd>
            {sweep
              ? `${time(sweep.finished_at)}: ${sweep.candidates} idle, ${sweep.reaped} reaped, ${sweep.spared} spared, ${sweep.errors} errors`
              : "none yet"}
          </dd>
          <dt>Watching</dt>
          <dd>
            {status.watching.stopped} stopped, {status.watching.idle} idle
          </dd>
        </dl>
      )}
    </section>
  );
}

function ClockPanel({
  clock,
  now,
  notify,
  onChanged,
}: {
  clock: (ClockNow & { readAt: number }) | null;
  now: number;
  notify: (kind: Notice["kind"], text: string) => void;
  onChanged: () => void;
}) {
  const [busy, setBusy] = useState(false);
  if (clock?.mode !== "simulated") return null;
  const shown = new Date(new Date(clock.now).getTime() + (now - clock.readAt) * clock.rate);
  const advance = async (by: string) => {
    setBusy(true);
    try {
      const result = await api<{ now: string }>("POST", "/admin/clock", { advance: by });
      notify("ok", `clock advanced ${by}: now ${new Date(result.now).toISOString()}`);
    } catch (err) {
      notify("error", `advance ${by}: ${errorText(err)}`);
    } finally {
      setBusy(false);
      onChanged();
    }
  };
  return (
    <section class="panel" aria-labelledby="clock-title">
      <h2 id="clock-title">Simulated clock</h2>
      <p>
        <time dateTime={shown.toISOString()}>{shown.toISOString().replace("T", " ").slice(0, 19)}</time> UTC
        {clock.rate === 0 ? " (stopped)" : clock.rate !== 1 ? ` (×${clock.rate})` : ""}
      </p>
      <fieldset class="buttons">
        <legend>Advance (needs the admin key)</legend>
        {["1m", "1h", "1d", "31d"].map((by) => (
          <button key={by} type="button" disabled={busy} onClick={() => advance(by)}>
            +{by}
          </button>
        ))}
      </fieldset>
    </section>
  );
}
