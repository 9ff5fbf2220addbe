import {
  type Clock,
  type Db,
  realClock,
  type ServerStateChanged,
  type VolumeStateChanged,
} from "@cloudsim/shared";
import type { LedgerChange } from "../domain/apply-event.ts";
import { ledgerPage, type SummaryQuery, summary, usage } from "./reads.ts";
import { type BillingOptions, recordEvents } from "./record-events.ts";
import { recordVolumeEvents } from "./record-volume-events.ts";
import { accrueOpenIntervals, type TickResult } from "./tick.ts";
import { volumeUsage } from "./volume-reads.ts";

/**
 * billing's own tables, and nothing else: each method is one job of db/. Times of bills
 * (ticks, usage, rows' stamps) are the clock's, the runtime's in the service.
 */
export class BillingRepository {
  constructor(
    private readonly db: Db,
    private readonly opts: BillingOptions,
    private readonly clock: Clock = realClock,
  ) {}

  /** Records a batch of server events once per id and bills what they change (record-events.ts). */
  recordEvents(events: readonly ServerStateChanged[]): Promise<LedgerChange[]> {
    return recordEvents(this.db, this.clock, this.opts, events);
  }

  /** Records a batch of volume events once per id and bills what they change (record-volume-events.ts). */
  recordVolumeEvents(events: readonly VolumeStateChanged[]): Promise<LedgerChange[]> {
    return recordVolumeEvents(this.db, this.clock, this.opts.volumeRate, events);
  }

  /** Accrues every open interval and billed volume into the ledger, once per interval across replicas unless forced (tick.ts). */
  tick(intervalMs: number, force = false): Promise<TickResult> {
    return accrueOpenIntervals(this.db, this.clock, intervalMs, force);
  }

  usage(serverId: string) {
    return usage(this.db, this.clock, this.opts.currency, serverId);
  }

  volumeUsage(volumeId: string, tenantId: string | null) {
    return volumeUsage(this.db, this.clock, this.opts.currency, { volumeId, tenantId });
  }

  ledger(serverId: string, limit: number, after?: string) {
    return ledgerPage(this.db, this.opts.currency, serverId, limit, after);
  }

  summary(query: SummaryQuery) {
    return summary(this.db, this.opts.currency, query);
  }
}
